"""Component features, each in its own folder, reaching the core only through hooks.

``FEATURES`` is the one ordered list of them: for every hook point the core asks each
feature in this order. The order matters where features meet: a locked field is
refused before any ``updating`` hook sees it, and the validation feature handles its
own ``ValidationError`` before a component's ``exception`` hook is asked.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from livepy.features.computed import ComputedHook
from livepy.features.events import EventsHook
from livepy.features.hooks import Hook
from livepy.features.lazy import LazyHook
from livepy.features.lifecycle import LifecycleHook
from livepy.features.locked import LockedHook
from livepy.features.navigation import NavigationHook
from livepy.features.props import PropsHook
from livepy.features.streams import StreamsHook
from livepy.features.uploads import UploadHook
from livepy.features.url import UrlHook
from livepy.features.validation import ValidationHook

if TYPE_CHECKING:
    from livepy.component import Component

__all__ = ["FEATURES", "RENDER_NEUTRAL", "Hook"]

FEATURES: tuple[Hook, ...] = (
    LockedHook(),
    PropsHook(),
    ComputedHook(),
    ValidationHook(),
    UploadHook(),  # after validation: a rule's message about a failed upload wins
    StreamsHook(),
    LifecycleHook(),
    EventsHook(),
    NavigationHook(),
    UrlHook(),
    LazyHook(),  # last: its joining mounts a placeholder, calling every feature's mounted
)

# For each hook, the features that override it (in FEATURES order): the core asks only them.
# Most hooks have one or two implementations, and several run on every click.
_OVERRIDING: dict[str, tuple[Hook, ...]] = {
    name: tuple(f for f in FEATURES if getattr(type(f), name) is not getattr(Hook, name))
    for name in vars(Hook)
    if not name.startswith("_")
}


# Instance attributes of the features that no shared render depends on (Hook.render_neutral)
RENDER_NEUTRAL: frozenset[str] = frozenset().union(*(f.render_neutral for f in FEATURES))


def define(cls: type[Component]) -> None:
    for feature in FEATURES:
        feature.define(cls)


# What every request drops before it begins (Hook.transient)
_TRANSIENT: tuple[str, ...] = tuple(sorted(frozenset().union(*(f.transient for f in FEATURES))))
_BEGIN = _OVERRIDING["begin"]


def begin(instance: Component) -> None:
    attributes = instance.__dict__
    if not attributes.keys().isdisjoint(_TRANSIENT):
        for name in _TRANSIENT:
            attributes.pop(name, None)
    for feature in _BEGIN:
        feature.begin(instance)


def rollback(instance: Component) -> None:
    for feature in _OVERRIDING["rollback"]:
        feature.rollback(instance)


def joining(instance: Component, state: dict[str, Any]) -> bool:
    """True when some feature set ``instance`` up from the joined snapshot's ``state`` itself
    (a lazy placeholder mounted): the core then skips loading the fields and ``hydrate``."""
    return any(feature.joining(instance, state) for feature in _OVERRIDING["joining"])


def hydrate(instance: Component) -> None:
    for feature in _OVERRIDING["hydrate"]:
        feature.hydrate(instance)


def dehydrate(instance: Component) -> None:
    for feature in _OVERRIDING["dehydrate"]:
        feature.dehydrate(instance)


def dump_extra(instance: Component, state: dict[str, Any]) -> None:
    for feature in _OVERRIDING["dump_extra"]:
        feature.dump_extra(instance, state)


def dump_extra_hooks() -> list[Callable[[Component, dict[str, Any]], None]]:
    """The features' ``dump_extra`` methods, in order (a class's written-out dump calls them
    itself: livepy.statedump)."""
    return [feature.dump_extra for feature in _OVERRIDING["dump_extra"]]


def load_extra(instance: Component, state: dict[str, Any]) -> None:
    for feature in _OVERRIDING["load_extra"]:
        feature.load_extra(instance, state)


def guard_update(instance: Component, name: str) -> None:
    for feature in _OVERRIDING["guard_update"]:
        feature.guard_update(instance, name)


def updating(instance: Component, name: str, value: Any) -> None:
    for feature in _OVERRIDING["updating"]:
        feature.updating(instance, name, value)


def updated(instance: Component, name: str, value: Any) -> None:
    for feature in _OVERRIDING["updated"]:
        feature.updated(instance, name, value)


def mounted(instance: Component, request: Any) -> None:
    for feature in _OVERRIDING["mounted"]:
        feature.mounted(instance, request)


def root_attributes(instance: Component) -> dict[str, str]:
    attributes: dict[str, str] = {}
    for feature in _OVERRIDING["root_attributes"]:
        feature.root_attributes(instance, attributes)
    return attributes


def rendering(instance: Component) -> None:
    for feature in _OVERRIDING["rendering"]:
        feature.rendering(instance)


def context(instance: Component, variables: dict[str, Any]) -> None:
    for feature in _OVERRIDING["context"]:
        feature.context(instance, variables)


def rendered(instance: Component, html: str) -> None:
    for feature in _OVERRIDING["rendered"]:
        feature.rendered(instance, html)


def reserved_call(
    instance: Component, method: str, args: tuple[Any, ...]
) -> Awaitable[None] | None:
    """The awaitable running the reserved ``$`` call ``method``, or None when no feature owns it."""
    for feature in _OVERRIDING["reserved_call"]:
        run = feature.reserved_call(instance, method, args)
        if run is not None:
            return run
    return None


def exception(instance: Component, exc: Exception) -> bool:
    """True when some feature handled ``exc``: the change then stands, with no error frame."""
    return any(feature.exception(instance, exc) for feature in _OVERRIDING["exception"])
