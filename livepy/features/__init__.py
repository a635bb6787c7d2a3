"""Component features, each in its own folder, reaching the core only through hooks.

``FEATURES`` is the one ordered list of them: for every hook point the core asks each
feature in this order. The order matters where features meet: a locked field is
refused before any ``updating`` hook sees it, and the validation feature handles its
own ``ValidationError`` before a component's ``exception`` hook is asked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from livepy.features.computed import ComputedHook
from livepy.features.hooks import Hook
from livepy.features.lifecycle import LifecycleHook
from livepy.features.locked import LockedHook
from livepy.features.validation import ValidationHook

if TYPE_CHECKING:
    from livepy.component import Component

__all__ = ["FEATURES", "Hook"]

FEATURES: tuple[Hook, ...] = (
    LockedHook(),
    ComputedHook(),
    ValidationHook(),
    LifecycleHook(),
)


def define(cls: type[Component]) -> None:
    for feature in FEATURES:
        feature.define(cls)


def begin(instance: Component) -> None:
    for feature in FEATURES:
        feature.begin(instance)


def rollback(instance: Component) -> None:
    for feature in FEATURES:
        feature.rollback(instance)


def hydrate(instance: Component) -> None:
    for feature in FEATURES:
        feature.hydrate(instance)


def dehydrate(instance: Component) -> None:
    for feature in FEATURES:
        feature.dehydrate(instance)


def guard_update(instance: Component, name: str) -> None:
    for feature in FEATURES:
        feature.guard_update(instance, name)


def updating(instance: Component, name: str, value: Any) -> None:
    for feature in FEATURES:
        feature.updating(instance, name, value)


def updated(instance: Component, name: str, value: Any) -> None:
    for feature in FEATURES:
        feature.updated(instance, name, value)


def rendering(instance: Component) -> None:
    for feature in FEATURES:
        feature.rendering(instance)


def context(instance: Component, variables: dict[str, Any]) -> None:
    for feature in FEATURES:
        feature.context(instance, variables)


def rendered(instance: Component, html: str) -> None:
    for feature in FEATURES:
        feature.rendered(instance, html)


def exception(instance: Component, exc: Exception) -> bool:
    """True when some feature handled ``exc``: the change then stands, with no error frame."""
    return any(feature.exception(instance, exc) for feature in FEATURES)
