"""Per-class state dumps: ``Component.dump_state`` written out for each component class.

Every pushed component is dumped once per broadcast, so a broadcast to thousands of components
dumps thousands of times. The general ``Component.dump_state`` loops over the class's fields
and tests each value's type against every wire scalar. The dump a class gets here reads each
field as a plain attribute and tests it against the type its annotation names first, in one
straight function made once per class (as ``dataclasses`` makes ``__init__``), which is about
half of the general dump's steps.

It is the general dump in every outcome: the same keys in the same order, the same values,
and the same errors. A value that is not of its annotation's plain type, or a field with
another annotation, goes to ``convert.dump``, as in the general dump; a field without a value
falls back to the general dump, which names it. A class that defines its own ``dump_state``,
or inherits one, keeps it.
"""

from __future__ import annotations

import keyword
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from livepy import features
from livepy.convert import INT_MAX, INT_MIN, dump

if TYPE_CHECKING:
    from livepy.component import Component

__all__ = ["compile_dump_state", "is_compiled"]

_COMPILED = "__livepy_compiled_dump__"
# The check that lets a field's value through as its own wire form, by annotation
_PLAIN_CHECKS: dict[Any, str] = {
    int: f"type(value) is int and {INT_MIN} <= value <= {INT_MAX}",
    str: "type(value) is str",
    float: "type(value) is float",
    bool: "type(value) is bool",
}


def is_compiled(function: object) -> bool:
    """Whether ``function`` is a dump made here (which a subclass replaces with its own)."""
    return getattr(function, _COMPILED, False) is True


def compile_dump_state(
    cls: type[Component], general: Callable[[Component], dict[str, Any]]
) -> Callable[[Component], dict[str, Any]]:
    """``general`` (``Component.dump_state``) written out for ``cls``'s fields."""
    lines = ["def dump_state(self):", "    state = {}", "    try:"]
    annotations: dict[str, Any] = {}
    for n, (name, state_field) in enumerate(cls.__state_fields__.items()):
        lines.append(
            f"        value = getattr(self, {name!r})"
            if _odd(name)
            else f"        value = self.{name}"
        )
        # the general path: convert.dump, which tries the plain scalars first
        annotations[f"_annotation_{n}"] = state_field.annotation
        general_value = f"_dump(value, _annotation_{n}, type(self).__name__ + {'.' + name!r})"
        check = _PLAIN_CHECKS.get(state_field.annotation)
        if check is None:
            lines.append(f"        state[{name!r}] = {general_value}")
        else:
            lines += [
                f"        if {check}:",
                f"            state[{name!r}] = value",
                "        else:",
                f"            state[{name!r}] = {general_value}",
            ]
    if not cls.__state_fields__:
        lines.append("        pass")
    lines += [
        "    except AttributeError:",
        "        return _general(self)  # names the field without a value",
        "    if self.children:",
        "        state[_CHILDREN] = {key: list(child) for key, child in self.children.items()}",
        "    offsets = self.offsets",
        "    if offsets:",
        "        state[_OFFSETS] = dict(zip(offsets, map(list, offsets.values())))",
    ]
    extras = features.dump_extra_hooks()
    lines += [f"    _extra_{n}(self, state)" for n in range(len(extras))]
    lines.append("    return state")
    from livepy.component import CHILDREN_KEY, OFFSETS_KEY

    namespace: dict[str, Any] = {
        "_dump": dump,
        **annotations,
        "_general": general,
        **{f"_extra_{n}": hook for n, hook in enumerate(extras)},
        "_CHILDREN": CHILDREN_KEY,
        "_OFFSETS": OFFSETS_KEY,
    }
    code = compile("\n".join(lines), f"<livepy dump_state of {cls.__qualname__}>", "exec")
    exec(code, namespace)  # (its source is built above from the field names alone)
    function: Callable[[Component], dict[str, Any]] = namespace["dump_state"]
    function.__qualname__ = f"{cls.__qualname__}.dump_state"
    function.__doc__ = general.__doc__
    setattr(function, _COMPILED, True)
    return function


def _odd(name: str) -> bool:
    """A field name that cannot be written as ``self.name`` (only a hand-made class has one)."""
    return not name.isidentifier() or keyword.iskeyword(name)
