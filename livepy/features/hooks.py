"""The hook contract between the core and a feature: every method is optional.

The core calls these at fixed points of a component's life (see ``livepy.features``
for the order in which features are asked). A feature overrides only what it needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from livepy.component import Component

__all__ = ["Hook"]


class Hook:
    """One feature's hooks. The defaults do nothing."""

    def define(self, cls: type[Component]) -> None:
        """A component class was defined: inspect it, raise ComponentDefinitionError."""

    def begin(self, instance: Component) -> None:
        """A request (a CALL, a pushed event or a join) starts working on ``instance``."""

    def rollback(self, instance: Component) -> None:
        """The request failed and the state went back to what it was at ``begin``."""

    def hydrate(self, instance: Component) -> None:
        """The state was rebuilt from a verified snapshot (on join)."""

    def dehydrate(self, instance: Component) -> None:
        """The state is about to be dumped into a snapshot."""

    def guard_update(self, instance: Component, name: str) -> None:
        """The browser asks to update ``name`` (maybe a path, ``"form.email"``): raise
        ProtocolError to refuse outright, before the value is even converted."""

    def updating(self, instance: Component, name: str, value: Any) -> None:
        """``name`` is about to become ``value`` (already converted); raise to refuse."""

    def updated(self, instance: Component, name: str, value: Any) -> None:
        """``name`` became ``value`` from a model update."""

    def rendering(self, instance: Component) -> None:
        """The template is about to render."""

    def context(self, instance: Component, variables: dict[str, Any]) -> None:
        """Add template variables; state fields already there win over them."""

    def rendered(self, instance: Component, html: str) -> None:
        """The template rendered to ``html``."""

    def exception(self, instance: Component, exc: Exception) -> bool:
        """An action, listener or hook raised ``exc``: return True to handle it."""
        return False
