"""URL binding: fields that mirror the query string (``?search=shoes&page=2``).

Declared like ``Locked[T]``: ``search: Url[str] = ""`` binds ``search`` under its own name;
``page: Annotated[int, url(as_="p", history=True)] = 1`` picks the query key, and makes a
change add a browser history entry (``pushState``) instead of replacing the current one.

On a page's first render, after ``mount()``, each bound field is restored from the
request's query string, converted to the field's type. A value that does not convert (or
is longer than ``MAX_URL_VALUE_CHARS``) is ignored and the field keeps what ``mount()``
left, so a hand-edited URL never breaks the page. In the browser, ``js/url.js`` keeps the
address bar in step with the state after every reply (a field at its default is left out,
unless ``keep=True``), and on back/forward (``popstate``) sends the URL's values back as
model updates, so the component re-renders as it was.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import logging
import types
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar, Union, get_args, get_origin

from livepy.convert import ConversionError, convert, dump, unwrap
from livepy.exceptions import ComponentDefinitionError
from livepy.features.hooks import Hook
from livepy.protocol import constants as c

if TYPE_CHECKING:
    from livepy.component import Component

__all__ = [
    "MAX_URL_LIST_ITEMS",
    "MAX_URL_VALUE_CHARS",
    "Url",
    "UrlBinding",
    "UrlHook",
    "restore_from_query",
    "url",
    "url_fields",
]

logger = logging.getLogger("livepy.url")

T = TypeVar("T")

# A query value longer than this, or a list with more items, is ignored (default kept): the
# state ends up in the snapshot, which should not grow with whatever a link carries.
MAX_URL_VALUE_CHARS = 2048
MAX_URL_LIST_ITEMS = 100


@dataclasses.dataclass(frozen=True, slots=True)
class UrlBinding:
    """How one field mirrors the query string. Build it with ``url(...)``."""

    as_: str | None = None  # the query key; the field's name by default
    history: bool = False  # pushState (a back-button step) instead of replaceState
    keep: bool = False  # show the field even at its default value


def url(*, as_: str | None = None, history: bool = False, keep: bool = False) -> UrlBinding:
    """``Annotated[int, url(as_="p", history=True)]``: bind a field to the query string."""
    if as_ is not None and (not isinstance(as_, str) or not as_.strip()):
        raise ValueError(f"url(as_=...) must be a non-empty string, not {as_!r}")
    return UrlBinding(as_=as_, history=history, keep=keep)


# ``Url[str]`` is ``Annotated[str, url()]``, which type checkers read as plain ``str``.
Url = Annotated[T, UrlBinding()]


@dataclasses.dataclass(frozen=True, slots=True)
class UrlField:
    name: str
    key: str
    annotation: Any
    is_list: bool
    binding: UrlBinding
    default: Any  # wire form


_FIELDS: dict[type, tuple[UrlField, ...]] = {}


def url_fields(cls: type[Component]) -> tuple[UrlField, ...]:
    """The URL-bound fields of a component class, in declaration order."""
    return _FIELDS.get(cls, ())


def _scalar(tp: Any) -> bool:
    if tp in (int, float, str, bool):
        return True
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return True
    if get_origin(tp) is Literal:
        return True
    if get_origin(tp) in (Union, types.UnionType):
        return all(arg is type(None) or _scalar(arg) for arg in get_args(tp))
    return False


def _is_list_of_scalars(tp: Any) -> bool:
    return get_origin(tp) is list and _scalar(unwrap(get_args(tp)[0]))


def _collect(cls: type[Component]) -> tuple[UrlField, ...]:
    found: list[UrlField] = []
    keys: dict[str, str] = {}
    for state_field in cls.__state_fields__.values():
        bindings = [item for item in state_field.metadata if isinstance(item, UrlBinding)]
        if not bindings:
            continue
        where = f"{cls.__qualname__}.{state_field.name}"
        tp = unwrap(state_field.annotation)
        if not (_scalar(tp) or _is_list_of_scalars(tp)):
            raise ComponentDefinitionError(
                f"{where}: a URL-bound field must be a str, int, float, bool, Enum, Literal, "
                "an Optional of those, or a list of those"
            )
        binding = bindings[-1]
        key = binding.as_ or state_field.name
        if key in keys:
            raise ComponentDefinitionError(
                f"{where}: query key {key!r} is already bound to {keys[key]!r}"
            )
        keys[key] = state_field.name
        default = state_field.default
        # A field without a default (set in mount) has no value to leave out of the URL.
        wire_default = None if _is_missing(default) else dump(default, tp, where)
        found.append(
            UrlField(state_field.name, key, tp, _is_list_of_scalars(tp), binding, wire_default)
        )
    return tuple(found)


def _is_missing(default: Any) -> bool:
    from livepy.component import _MISSING

    return default is _MISSING


def restore_from_query(instance: Component, query: Any) -> None:
    """Set the bound fields from ``query`` (a multi-dict with ``getlist``, like Starlette's
    ``request.query_params``); a value that does not fit is ignored, keeping the field."""
    for bound in url_fields(type(instance)):
        values = [str(v) for v in query.getlist(bound.key)]
        if not values:
            continue
        where = f"{type(instance).__name__}.{bound.name} (?{bound.key}=)"
        if len(values) > MAX_URL_LIST_ITEMS or any(len(v) > MAX_URL_VALUE_CHARS for v in values):
            logger.info("event=url_value_ignored field=%s reason=too_long", where)
            continue
        try:
            value = convert(values if bound.is_list else values[0], bound.annotation, where)
        except ConversionError as exc:
            logger.info("event=url_value_ignored field=%s reason=%s", where, exc)
            continue
        setattr(instance, bound.name, value)


def _config(fields: tuple[UrlField, ...]) -> str:
    """What ``js/url.js`` needs: field -> [query key, history, keep, default, is_list]."""
    return json.dumps(
        {
            f.name: [f.key, int(f.binding.history), int(f.binding.keep), f.default, int(f.is_list)]
            for f in fields
        },
        separators=(",", ":"),
    )


class UrlHook(Hook):
    def define(self, cls: type[Component]) -> None:
        _FIELDS[cls] = _collect(cls)

    def mounted(self, instance: Component, request: Any) -> None:
        if request is not None and url_fields(type(instance)):
            restore_from_query(instance, request.query_params)

    def root_attributes(self, instance: Component, attributes: dict[str, str]) -> None:
        fields = url_fields(type(instance))
        if fields:
            attributes[c.ATTR_URL] = _config(fields)
