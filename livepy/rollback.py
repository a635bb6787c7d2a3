"""The rollback point of a change: what puts a component back when its action or listener fails.

The general point is ``dump_state()``, restored by ``load_state``: a deep copy in wire form, so
that a change that edits a list in place is undone too. Most components a broadcast reaches
hold only plain scalars (str, int, float, bool), which nothing can edit in place: for them the
values themselves are the copy, and restoring sets them back. That skips the dump's checks and
labels on every change (twice per component per broadcast would be the dump and the snapshot).
The offsets, the children (none on this path) and the features' extras are restored as
``load_state`` restores them, so the two points put a component back in the same way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeAlias

from livepy import features
from livepy.convert import INT_MAX, INT_MIN

if TYPE_CHECKING:
    from livepy.component import Component

__all__ = ["RollbackPoint", "restore", "rollback_point"]

_MISSING = object()


class _Scalars:
    """The state of a component whose fields all hold plain scalars."""

    __slots__ = ("extras", "offsets", "values")

    def __init__(
        self, values: list[Any], offsets: dict[str, list[Any]], extras: dict[str, Any]
    ) -> None:
        self.values = values
        self.offsets = offsets
        self.extras = extras


# What ``rollback_point`` took: the full dump, or the plain values
RollbackPoint: TypeAlias = _Scalars | dict[str, Any]


def restore(instance: Component, point: RollbackPoint) -> None:
    """Put ``instance`` back to ``point``."""
    if isinstance(point, dict):
        instance.load_state(point)
        return
    for name, value in zip(type(instance).__state_fields__, point.values, strict=True):
        setattr(instance, name, value)
    instance.offsets = point.offsets
    instance.children = {}
    features.load_extra(instance, point.extras)


def rollback_point(instance: Component) -> RollbackPoint:
    """The point to restore ``instance`` to if the change about to run fails.

    Raises TypeError like ``dump_state`` when the state cannot be dumped."""
    if instance.children:
        return instance.dump_state()
    values = []
    for name in type(instance).__state_fields__:
        value: Any = getattr(instance, name, _MISSING)
        kind = type(value)
        if not (
            kind is str
            or kind is float
            or kind is bool
            or (kind is int and INT_MIN <= value <= INT_MAX)
        ):  # a container, a dataclass, None, a missing value...: the full dump and its checks
            return instance.dump_state()
        values.append(value)
    offsets = {channel: list(at) for channel, at in instance.offsets.items()}
    extras: dict[str, Any] = {}
    features.dump_extra(instance, extras)
    return _Scalars(values, offsets, extras)
