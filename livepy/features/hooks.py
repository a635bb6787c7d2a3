"""The hook contract between the core and a feature: every method is optional.

The core calls these at fixed points of a component's life (see ``livepy.features``
for the order in which features are asked). A feature overrides only what it needs: the core
asks a feature only for the hooks its class overrides (an attribute set on an instance is not
seen).
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from livepy.component import Component

__all__ = ["Hook"]


class Hook:
    """One feature's hooks. The defaults do nothing."""

    # Attributes the feature keeps on instances that a render of a broadcast's change does not
    # read beyond the dumped state (livepy.fanout keys shared renders on the state and on every
    # other attribute): a copy kept for a rollback, a flag every push sets, data the state holds,
    # what a render records for later.
    render_neutral: frozenset[str] = frozenset()
    # Attributes the feature keeps on instances for one request only: dropped when the next
    # begins, before any ``begin`` hook runs (without a call per feature: a broadcast begins a
    # request on every component it reaches).
    transient: frozenset[str] = frozenset()

    def define(self, cls: type[Component]) -> None:
        """A component class was defined: inspect it, raise ComponentDefinitionError."""

    def begin(self, instance: Component) -> None:
        """A request (a CALL, a pushed event or a join) starts working on ``instance``."""

    def rollback(self, instance: Component) -> None:
        """The request failed and the state went back to what it was at ``begin``."""

    def joining(self, instance: Component, state: dict[str, Any]) -> bool:
        """The browser joins a verified snapshot holding ``state``, before anything is loaded:
        return True when this feature sets ``instance`` up from it itself (a lazy placeholder
        runs ``mount()``). The core then skips ``load_state`` and ``hydrate``, sends the new
        state as a patch with the JOINED, and the effects queued meanwhile right after it."""
        return False

    def hydrate(self, instance: Component) -> None:
        """The state was rebuilt from a verified snapshot (on join)."""

    def dehydrate(self, instance: Component) -> None:
        """The state is about to be dumped into a snapshot."""

    def dump_extra(self, instance: Component, state: dict[str, Any]) -> None:
        """Add what the feature keeps in the snapshot besides the fields, under a reserved
        ``"$name"`` key (not an identifier, so never a field)."""

    def load_extra(self, instance: Component, state: dict[str, Any]) -> None:
        """Take back what ``dump_extra`` stored, from a verified snapshot's state."""

    def guard_update(self, instance: Component, name: str) -> None:
        """The browser asks to update ``name`` (maybe a path, ``"form.email"``): raise
        ProtocolError to refuse outright, before the value is even converted."""

    def updating(self, instance: Component, name: str, value: Any) -> None:
        """``name`` is about to become ``value`` (already converted); raise to refuse."""

    def updated(self, instance: Component, name: str, value: Any) -> None:
        """``name`` became ``value`` from a model update."""

    def mounted(self, instance: Component, request: Any) -> None:
        """``mount()`` ran for a page render; ``request`` is the page's request (or None):
        restore state it carries, such as the query string."""

    def root_attributes(self, instance: Component, attributes: dict[str, str]) -> None:
        """Add attributes to the root of a component's first render (next to its snapshot),
        for the browser to read once, when the component starts."""

    def rendering(self, instance: Component) -> None:
        """The template is about to render."""

    def context(self, instance: Component, variables: dict[str, Any]) -> None:
        """Add template variables; state fields already there win over them."""

    def rendered(self, instance: Component, html: str) -> None:
        """The template rendered to ``html``."""

    def reserved_call(
        self, instance: Component, method: str, args: tuple[Any, ...]
    ) -> Awaitable[None] | None:
        """The browser calls ``method``, a ``$``-prefixed name no action can have: return an
        awaitable running it when this feature owns the name (it may raise ProtocolError),
        else None."""
        return None

    def exception(self, instance: Component, exc: Exception) -> bool:
        """An action, listener or hook raised ``exc``: return True to handle it."""
        return False
