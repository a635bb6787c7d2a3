"""Events between components: ``self.dispatch("saved", id=1)`` and ``@on("saved")`` listeners.

A dispatch travels to the browser as a ``dispatch`` effect of the reply. The runtime
(``js/events.js``) finds the components on the page that listen to the event (each root
carries the names it listens to in ``lp-listen``), narrows them to ``.to(name)``,
``.up()`` (the dispatcher's ancestors) or ``.self()``, and calls the reserved ``$event``
entry point on each: ``["$event", [name, params, depth]]``. The server runs only the
``@on(name)`` methods for it, their parameters filled by name from ``params`` and converted
to their annotations like action arguments. The browser does the routing, so events work
the same over the WebSocket and over the HTTP fallback.

``self.dispatch_browser("notify", message="hi")`` is a ``browser_event`` effect: a DOM
``CustomEvent`` on the component's root that bubbles up to ``window``.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

from livepy import registry
from livepy.convert import ConversionError, convert, dump
from livepy.exceptions import ComponentDefinitionError, UnknownComponentError
from livepy.features.hooks import Hook
from livepy.parameters import MISSING, typed_parameters
from livepy.protocol import constants as c
from livepy.protocol.errors import ProtocolError

if TYPE_CHECKING:
    from livepy.component import Component

__all__ = [
    "EFFECT_BROWSER_EVENT",
    "EFFECT_DISPATCH",
    "EVENT_CALL",
    "MAX_EVENT_DEPTH",
    "EventsHook",
    "PendingDispatch",
    "dispatch",
    "dispatch_browser",
    "listened_events",
]

EFFECT_DISPATCH = "dispatch"
EFFECT_BROWSER_EVENT = "browser_event"
EVENT_CALL = "$event"
# A listener that dispatches an event may wake another listener, and so on; a chain this long
# is a loop (two components answering each other), refused rather than run forever.
MAX_EVENT_DEPTH = 8
MAX_EVENT_NAME = 100
_DEPTH = "$event_depth"  # instance.__dict__ key: the depth of the event being handled
_SPEC = "__livepy_component_events__"
_MISSING: Any = MISSING

# event name -> [(method name, ((param, annotation, default or _MISSING), ...), is_async)]
Listener = tuple[str, tuple[tuple[str, Any, Any], ...], bool]
EventSpec = dict[str, list[Listener]]


def check_event_name(name: Any, where: str) -> str:
    if not isinstance(name, str) or not 0 < len(name) <= MAX_EVENT_NAME:
        raise ValueError(f"{where}: an event name is a string of 1 to {MAX_EVENT_NAME} characters")
    if any(ch.isspace() for ch in name):
        raise ValueError(f"{where}: an event name cannot contain white space ({name!r})")
    return name


def listened_events(cls: type[Component]) -> EventSpec:
    """The component events ``cls`` listens to, each with its listener methods in name order."""
    spec: EventSpec = getattr(cls, _SPEC, {})
    return spec


def _collect(cls: type[Component]) -> EventSpec:
    spec: EventSpec = {}
    for name in sorted(dir(cls)):
        fn = getattr(cls, name, None)
        for event, channel_event in getattr(fn, "__livepy_listeners__", []):
            if channel_event is not None:
                continue  # @on(channel, event): a broadcast listener, see livepy.listeners
            where = f"{cls.__qualname__}.{name}"
            try:
                check_event_name(event, f"{where} @on")
            except ValueError as exc:
                raise ComponentDefinitionError(str(exc)) from None
            assert callable(fn)
            spec.setdefault(event, []).append(
                (name, _params(fn, where), inspect.iscoroutinefunction(fn))
            )
    return spec


def _params(fn: Any, where: str) -> tuple[tuple[str, Any, Any], ...]:
    return typed_parameters(
        fn,
        where,
        refused_kinds=(inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD),
        refusal=lambda name: (
            "listener parameters are filled by name from the event's params; "
            f"*{name} / **{name} cannot be"
        ),
        filled_from="event params",
    )


class PendingDispatch:
    """What ``self.dispatch(...)`` returns: narrow who hears the event before the reply goes.

    ``.to("cart")`` only components registered as ``cart``; ``.up()`` only the dispatcher's
    ancestors (the components it is nested in); ``.self()`` only the dispatcher itself.
    """

    def __init__(self, value: dict[str, Any]) -> None:
        self._value = value  # the effect value, already queued; narrowing edits it in place

    def _only(self, key: str, value: Any) -> PendingDispatch:
        for scope in ("to", "up", "self"):
            self._value.pop(scope, None)
        self._value[key] = value
        return self

    def to(self, name: str) -> PendingDispatch:
        """Only components registered as ``name``; ValueError when none is."""
        try:
            registry.resolve(name)
        except UnknownComponentError as exc:
            raise ValueError(f"dispatch({self._value['name']!r}).to({name!r}): {exc}") from None
        return self._only("to", name)

    def up(self) -> PendingDispatch:
        """Only the components the dispatcher is nested in (its parent, their parent...)."""
        return self._only("up", True)

    def self(self) -> PendingDispatch:
        """Only the dispatching component itself."""
        return self._only("self", True)

    @property
    def value(self) -> dict[str, Any]:
        """The effect value as it goes on the wire."""
        return self._value


def dispatch(instance: Component, event: str, params: dict[str, Any]) -> PendingDispatch:
    where = f"{type(instance).name}.dispatch({event!r})"
    check_event_name(event, where)
    value: dict[str, Any] = {"name": event, "params": dump(params, Any, where)}
    depth = instance.__dict__.get(_DEPTH, 0) + 1
    if depth > 1:  # the browser sends it back with the $event call, for loop detection
        value["depth"] = depth
    instance.add_effect(EFFECT_DISPATCH, value)
    return PendingDispatch(value)


def dispatch_browser(instance: Component, event: str, detail: dict[str, Any]) -> None:
    where = f"{type(instance).name}.dispatch_browser({event!r})"
    check_event_name(event, where)
    instance.add_effect(EFFECT_BROWSER_EVENT, {"name": event, "detail": dump(detail, Any, where)})


def _event_arguments(
    cls: type[Component], event: str, listener: Listener, params: dict[str, Any]
) -> dict[str, Any]:
    method, spec, _ = listener
    arguments = {}
    for pname, annotation, default in spec:
        where = f"{cls.name}.{method}({pname}) for event {event!r}"
        if pname in params:
            arguments[pname] = convert(params[pname], annotation, where)
        elif default is _MISSING:
            raise ConversionError(f"{where}: the event has no param {pname!r}")
        else:
            arguments[pname] = default
    return arguments


async def _handle(instance: Component, args: tuple[Any, ...]) -> None:
    cls = type(instance)
    if not (2 <= len(args) <= 3 and isinstance(args[0], str) and isinstance(args[1], dict)):
        raise ProtocolError(c.ERR_BAD_ARGUMENT, f"{EVENT_CALL} takes [name, params, depth?]")
    event, params = args[0], args[1]
    depth = args[2] if len(args) == 3 else 1
    if type(depth) is not int or depth < 1:
        raise ProtocolError(c.ERR_BAD_ARGUMENT, f"{EVENT_CALL}: depth is a positive integer")
    if depth > MAX_EVENT_DEPTH:
        raise ProtocolError(
            c.ERR_BAD_ARGUMENT,
            f"event {event!r} is {depth} dispatches deep (the limit is {MAX_EVENT_DEPTH}): "
            "listeners that keep dispatching to each other form a loop",
        )
    listeners = listened_events(cls).get(event)
    if not listeners:
        raise ProtocolError(c.ERR_UNKNOWN_EVENT, f"{cls.name} does not listen to {event!r}")
    try:
        calls = [(lst, _event_arguments(cls, event, lst, params)) for lst in listeners]
    except ConversionError as exc:
        raise ProtocolError(c.ERR_BAD_ARGUMENT, str(exc)) from None
    instance.__dict__[_DEPTH] = depth
    for (method, _, is_async), arguments in calls:
        result = getattr(instance, method)(**arguments)
        if is_async:
            await result


class EventsHook(Hook):
    """Collects ``@on(event)`` listeners, names them on the root, runs ``$event`` calls."""

    transient = frozenset({_DEPTH})

    def define(self, cls: type[Component]) -> None:
        setattr(cls, _SPEC, _collect(cls))

    def root_attributes(self, instance: Component, attributes: dict[str, str]) -> None:
        events = listened_events(type(instance))
        if events:
            attributes[c.ATTR_LISTEN] = " ".join(events)

    def reserved_call(
        self, instance: Component, method: str, args: tuple[Any, ...]
    ) -> Awaitable[None] | None:
        return _handle(instance, args) if method == EVENT_CALL else None
