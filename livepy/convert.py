"""Conversion of untrusted client values to declared Python types, and back to wire values.

The annotation alone decides the type: a client can send only plain msgpack values
(nil, bool, numbers, strings, arrays, maps) and never a type tag. Supported
annotations: int, float, str, bool, None, Optional/unions with None, list[T],
dict[str, T], Literal[...], Enum subclasses, dataclasses of those, and Any-free
combinations of them. Anything else is refused when the component class is defined.

A class may carry its own conversion (``livepy.UploadedFile`` does): a classmethod
``__livepy_convert__(value, where)`` that builds it from plain data or raises
ConversionError, and a method ``__livepy_dump__()`` that turns it back into plain data.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from typing import Annotated, Any, Literal, Union, get_args, get_origin

__all__ = ["ConversionError", "check_supported", "convert", "dump", "unwrap"]


class ConversionError(ValueError):
    """A client value does not fit the declared type. The message names where and why."""


_SCALARS = (int, float, str, bool)
# msgpack carries 64-bit integers: anything wider could never be signed into a snapshot.
INT_MIN, INT_MAX = -(2**63), 2**63 - 1


def _in_range(value: int, where: str) -> int:
    if not INT_MIN <= value <= INT_MAX:
        raise ConversionError(f"{where}: {value} is outside the 64-bit integer range")
    return value


def _is_optional_union(tp: Any) -> bool:
    return get_origin(tp) in (Union, types.UnionType)


def _hints(cls: type[Any]) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def unwrap(tp: Any) -> Any:
    """``Annotated[T, ...]`` (``Locked[T]``, validation rules) is converted as ``T``."""
    while get_origin(tp) is Annotated:
        tp = tp.__origin__
    return tp


def describe(tp: Any) -> str:
    if isinstance(tp, type):
        return tp.__name__
    return repr(tp).replace("typing.", "")


def _has_own_conversion(tp: Any) -> bool:
    return isinstance(tp, type) and callable(getattr(tp, "__livepy_convert__", None))


def check_supported(tp: Any, where: str) -> None:
    """Raise TypeError naming ``where`` if ``tp`` cannot be carried in a snapshot."""
    tp = unwrap(tp)
    if tp in _SCALARS or tp is type(None) or tp is None or _has_own_conversion(tp):
        return
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        for member in tp:
            if not isinstance(member.value, int | str) or isinstance(member.value, bool):
                raise TypeError(f"{where}: enum {tp.__name__} values must be int or str")
        return
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        for name, hint in _hints(tp).items():
            check_supported(hint, f"{where}.{name}")
        return
    origin = get_origin(tp)
    args = get_args(tp)
    if origin is Literal:
        for arg in args:
            if not (arg is None or isinstance(arg, int | str | bool)):
                raise TypeError(f"{where}: Literal values must be int, str, bool or None")
        return
    if _is_optional_union(tp):
        for arg in args:
            check_supported(arg, where)
        return
    if origin is list and len(args) == 1:
        check_supported(args[0], f"{where}[]")
        return
    if origin is dict and len(args) == 2:
        if args[0] is not str:
            raise TypeError(f"{where}: dict keys must be str, not {describe(args[0])}")
        check_supported(args[1], f"{where}{{}}")
        return
    raise TypeError(
        f"{where}: type {describe(tp)} cannot be serialized into a snapshot; use int, float, "
        "str, bool, None, Optional, list[T], dict[str, T], Literal, an Enum or a dataclass"
    )


def convert(value: Any, tp: Any, where: str = "value") -> Any:
    """Convert ``value`` (plain msgpack data from a client) to ``tp`` or raise ConversionError."""
    tp = unwrap(tp)
    if tp is type(None) or tp is None:
        if value is None:
            return None
        raise ConversionError(f"{where}: expected null, got {type(value).__name__}")
    if tp is bool:
        if isinstance(value, bool):
            return value
        if value in ("true", "on", "1", 1):
            return True
        if value in ("false", "off", "0", "", 0):
            return False
        raise ConversionError(f"{where}: expected a boolean, got {value!r}")
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return _in_range(value, where)
        if isinstance(value, float) and value.is_integer():
            return _in_range(int(value), where)
        if isinstance(value, str) and len(value) <= 40:
            try:
                return _in_range(int(value.strip()), where)
            except ValueError:
                pass
        raise ConversionError(f"{where}: expected an integer, got {_show(value)}")
    if tp is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                result = float(value.strip())
            except ValueError:
                pass
            else:
                if result == result and result not in (float("inf"), float("-inf")):
                    return result
        raise ConversionError(f"{where}: expected a number, got {_show(value)}")
    if tp is str:
        if isinstance(value, str):
            return value
        raise ConversionError(f"{where}: expected a string, got {_show(value)}")
    if _has_own_conversion(tp):
        return tp.__livepy_convert__(value, where)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        for member in tp:
            if member.value == value or (isinstance(value, str) and str(member.value) == value):
                return member
        choices = ", ".join(repr(m.value) for m in tp)
        raise ConversionError(f"{where}: expected one of {choices}, got {_show(value)}")
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise ConversionError(f"{where}: expected an object, got {_show(value)}")
        hints = _hints(tp)
        unknown = set(value) - set(hints)
        if unknown:
            raise ConversionError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
        kwargs = {k: convert(v, hints[k], f"{where}.{k}") for k, v in value.items()}
        try:
            return tp(**kwargs)
        except TypeError as exc:
            raise ConversionError(f"{where}: {exc}") from None
    origin = get_origin(tp)
    args = get_args(tp)
    if origin is Literal:
        for arg in args:
            try:
                if convert(value, type(arg), where) == arg and (
                    type(arg) is not int or not isinstance(value, bool)
                ):
                    return arg
            except ConversionError:
                continue
        raise ConversionError(
            f"{where}: expected one of {', '.join(map(repr, args))}, got {_show(value)}"
        )
    if _is_optional_union(tp):
        if value is None and type(None) in args:
            return None
        others = [a for a in args if a is not type(None)]
        if value == "" and type(None) in args and str not in others:
            return None
        errors = []
        for arg in others:
            try:
                return convert(value, arg, where)
            except ConversionError as exc:
                errors.append(str(exc))
        raise ConversionError("; ".join(errors))
    if origin is list:
        if not isinstance(value, list):
            raise ConversionError(f"{where}: expected a list, got {_show(value)}")
        return [convert(item, args[0], f"{where}[{i}]") for i, item in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ConversionError(f"{where}: expected an object, got {_show(value)}")
        return {
            convert(k, str, f"{where} key"): convert(v, args[1], f"{where}.{k}")
            for k, v in value.items()
        }
    raise ConversionError(f"{where}: type {describe(tp)} is not supported")


def dump(value: Any, tp: Any, where: str = "value") -> Any:
    """Turn a server-side value into plain wire data, checking it fits ``tp``."""
    kind = type(value)  # exact plain scalars first: most state, dumped twice per change
    if kind is str or kind is float or kind is bool:
        return value
    if kind is int and INT_MIN <= value <= INT_MAX:
        return value
    tp = unwrap(tp)
    if value is None:
        if (
            tp is type(None)
            or tp is None
            or (_is_optional_union(tp) and type(None) in get_args(tp))
        ):
            return None
        raise TypeError(f"{where} is None but is declared {describe(tp)}")
    if isinstance(value, enum.Enum):
        return value.value
    own_dump = getattr(value, "__livepy_dump__", None)
    if own_dump is not None and not isinstance(value, type):
        return own_dump()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        hints = _hints(type(value))
        return {
            f.name: dump(getattr(value, f.name), hints[f.name], f"{where}.{f.name}")
            for f in dataclasses.fields(value)
        }
    if isinstance(value, int) and not isinstance(value, bool):
        if not INT_MIN <= value <= INT_MAX:
            raise TypeError(f"{where} = {value} is outside the 64-bit integer range of snapshots")
        return value
    if isinstance(value, bool | float | str):
        return value
    if isinstance(value, list | tuple):
        item_tp = _item_type(tp, list)
        return [dump(v, item_tp, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        item_tp = _item_type(tp, dict)
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError(f"{where} has a non-string key {k!r}")
            out[k] = dump(v, item_tp, f"{where}.{k}")
        return out
    raise TypeError(
        f"{where} holds a {type(value).__name__}, which cannot be serialized into a snapshot"
    )


def _item_type(tp: Any, container: type) -> Any:
    if _is_optional_union(tp):
        for arg in get_args(tp):
            if get_origin(arg) is container:
                tp = arg
                break
    args = get_args(tp)
    if get_origin(tp) is container and args:
        return args[-1]
    return Any


def _show(value: Any) -> str:
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}"
