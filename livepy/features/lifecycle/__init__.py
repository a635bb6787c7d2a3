"""Lifecycle hooks: optional methods a component defines to run at points of its life.

``hydrate()`` after the state is rebuilt from a snapshot (on join), ``dehydrate()`` before
the state is dumped into one, ``updating_<field>(value)`` / ``updating(name, value)``
before a model update (raise to refuse it; for ``"form.email"`` the first is
``updating_form_email``), ``updated_<field>(value)`` /
``updated(name, value)`` after it, ``rendering()`` / ``rendered(html)`` around each render,
and ``exception(exc) -> bool`` to handle an error raised by an action, a listener or a hook.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from livepy.features.hooks import Hook

if TYPE_CHECKING:
    from livepy.component import Component

__all__ = ["HOOK_METHODS", "LifecycleHook"]

# Names a component may define as lifecycle methods; none of them can be an @action.
HOOK_METHODS = frozenset(
    {"hydrate", "dehydrate", "updating", "updated", "rendering", "rendered", "exception"}
)


def _call(instance: Component, method: str, *args: Any) -> Any:
    fn = getattr(instance, method, None)
    return fn(*args) if callable(fn) else None


class LifecycleHook(Hook):
    def hydrate(self, instance: Component) -> None:
        _call(instance, "hydrate")

    def dehydrate(self, instance: Component) -> None:
        _call(instance, "dehydrate")

    def updating(self, instance: Component, name: str, value: Any) -> None:
        _call(instance, "updating", name, value)
        _call(instance, f"updating_{name.replace('.', '_')}", value)

    def updated(self, instance: Component, name: str, value: Any) -> None:
        _call(instance, f"updated_{name.replace('.', '_')}", value)
        _call(instance, "updated", name, value)

    def rendering(self, instance: Component) -> None:
        _call(instance, "rendering")

    def rendered(self, instance: Component, html: str) -> None:
        _call(instance, "rendered", html)

    def exception(self, instance: Component, exc: Exception) -> bool:
        return _call(instance, "exception", exc) is True
