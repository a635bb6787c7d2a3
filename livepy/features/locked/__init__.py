"""Locked fields: ``count: Locked[int]`` is state the browser can never change.

A model update naming a locked field is refused with a ``locked_field`` error frame, and
the whole CALL is undone; so is one naming a path to a locked field inside a dataclass
(``"form.owner_id"``), or replacing a whole dataclass that holds one. Server code
(``mount``, actions, listeners) may still set it, and the snapshot MAC already stops a
browser from forging it in the state it sends back.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import TYPE_CHECKING, Annotated, Any, TypeVar, get_args, get_origin

from livepy.convert import unwrap
from livepy.features.hooks import Hook
from livepy.protocol import constants as c
from livepy.protocol.errors import ProtocolError

if TYPE_CHECKING:
    from livepy.component import Component

__all__ = ["LOCKED", "Locked", "LockedHook", "is_locked", "locked_path"]

T = TypeVar("T")


class _LockedMarker:
    def __repr__(self) -> str:
        return "LOCKED"


LOCKED = _LockedMarker()

# A generic alias: ``Locked[int]`` is ``Annotated[int, LOCKED]``, which type checkers read
# as plain ``int``; conversion sees through the marker.
Locked = Annotated[T, LOCKED]


def is_locked(metadata: tuple[Any, ...]) -> bool:
    return any(item is LOCKED for item in metadata)


def _locked_inside(tp: Any, where: str) -> str | None:
    """The path of a locked field inside dataclass ``tp`` (nested too), or None."""
    if not (isinstance(tp, type) and dataclasses.is_dataclass(tp)):
        return None
    for name, hint in typing.get_type_hints(tp, include_extras=True).items():
        if get_origin(hint) is Annotated and is_locked(get_args(hint)[1:]):
            return f"{where}.{name}"
        inner = _locked_inside(unwrap(hint), f"{where}.{name}")
        if inner is not None:
            return inner
    return None


def locked_path(cls: type[Component], name: str) -> str | None:
    """Which locked field an update of ``name`` (maybe ``"form.email"``) would change."""
    head, _, rest = name.partition(".")
    state_field = cls.__state_fields__.get(head)
    if state_field is None:
        return None  # the core refuses unknown fields with bad_update
    if is_locked(state_field.metadata):
        return head
    tp, where = state_field.annotation, head
    for part in rest.split(".") if rest else ():
        if not (isinstance(tp, type) and dataclasses.is_dataclass(tp)):
            return None
        hint = typing.get_type_hints(tp, include_extras=True).get(part)
        if hint is None:
            return None
        where = f"{where}.{part}"
        if get_origin(hint) is Annotated and is_locked(get_args(hint)[1:]):
            return where
        tp = unwrap(hint)
    # A whole dataclass replaced at once would overwrite any locked field inside it.
    return _locked_inside(tp, where)


class LockedHook(Hook):
    def guard_update(self, instance: Component, name: str) -> None:
        path = locked_path(type(instance), name)
        if path is not None:
            raise ProtocolError(
                c.ERR_LOCKED_FIELD,
                f"{type(instance).__name__}.{path} is locked: the browser cannot change it",
            )
