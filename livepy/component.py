"""The Component base class: typed state, ``@action`` methods, ``mount`` and templates.

A subclass is inspected once, when it is defined: its annotated public attributes
become the state schema, its ``@action`` methods the only callable surface, and it
is registered under ``name`` (default: the snake_case of the class name). Nothing in
this module does I/O; the runtime drives instances through the methods below.
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from inspect import Parameter as _Param
from typing import (
    TYPE_CHECKING,
    Annotated,
    Any,
    ClassVar,
    Literal,
    TypeVar,
    get_args,
    get_origin,
)

from livepy import features, registry, statedump
from livepy.convert import (
    INT_MAX,
    INT_MIN,
    ConversionError,
    check_supported,
    convert,
    dump,
    unwrap,
)
from livepy.exceptions import ComponentDefinitionError
from livepy.features.lifecycle import HOOK_METHODS
from livepy.parameters import MISSING, typed_parameters

if TYPE_CHECKING:
    from livepy.broadcasting import PendingBroadcast
    from livepy.features.events import PendingDispatch

__all__ = ["Component", "action", "on", "on_notification", "on_presence"]

PRESENCE_HOOKS = ("here", "joining", "leaving")

F = TypeVar("F", bound=Callable[..., Any])

_RESERVED = frozenset(
    {
        "id",
        "name",
        "template",
        "template_source",
        "children",
        "broadcast",
        "validate",
        "forget",
        "add_effect",
        "push_event",
        "dispatch",
        "dispatch_browser",
        "redirect",
        "flash",
        "stream",
        "stream_remove",
        "stream_reset",
    }
)
# Where a parent's snapshot records its children: not an identifier, so never a field name.
CHILDREN_KEY = "$children"
# Where the last broadcast offset applied per channel is kept, to recover missed events.
OFFSETS_KEY = "$offsets"
_MISSING: Any = MISSING  # also the default of a state field that has none


def action(fn: F) -> F:
    """Mark a method as callable from the browser. Only such methods can be called."""
    fn.__livepy_action__ = True  # type: ignore[attr-defined]
    return fn


def on(
    channel_or_event: str, event: str | None = None, *, throttle: str | float | None = None
) -> Callable[[F], F]:
    """Mark a method as a listener: ``@on("saved")`` or ``@on("private-orders.{id}", "Shipped")``.

    Placeholders in the channel are filled from the component's state. ``throttle``
    ("100ms", "1s" or seconds) bounds how often a burst of events re-renders and pushes:
    every event is applied in order, the render waits for the end of the interval.
    """
    interval = parse_interval(throttle) if throttle is not None else None

    def mark(fn: F) -> F:
        listeners: list[tuple[str, str | None]] = getattr(fn, "__livepy_listeners__", [])
        listeners.append((channel_or_event, event))
        fn.__livepy_listeners__ = listeners  # type: ignore[attr-defined]
        if interval is not None:
            fn.__livepy_throttle__ = interval  # type: ignore[attr-defined]
        return fn

    return mark


def parse_interval(value: str | float) -> float:
    """``"100ms"``, ``"2s"`` or a number of seconds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str) and value.endswith("ms") and value[:-2].isdigit():
        seconds = int(value[:-2]) / 1000
    elif (
        isinstance(value, str) and value.endswith("s") and value[:-1].replace(".", "", 1).isdigit()
    ):
        seconds = float(value[:-1])
    else:
        raise ValueError(f"throttle must look like '100ms', '2s' or a number of seconds: {value!r}")
    if seconds < 0:
        raise ValueError(f"throttle cannot be negative: {value!r}")
    return seconds


def on_presence(channel: str, hook: str = "here") -> Callable[[F], F]:
    """Presence hooks: ``here`` gets the member list on join and on every change,
    ``joining`` / ``leaving`` get one member (a dict with an ``id``).

    ``@on_presence("presence-room.{room_id}")`` fills placeholders from the state.
    """
    if hook not in PRESENCE_HOOKS:
        raise ValueError(f"on_presence hook must be one of {', '.join(PRESENCE_HOOKS)}")
    if not channel.startswith("presence-"):
        raise ValueError(f"on_presence needs a presence- channel, not {channel!r}")
    return on(channel, f"$presence:{hook}")


def on_notification(event: str) -> Callable[[F], F]:
    """Listen for ``live.notify(user_id, event, data)`` sent to this connection's user."""
    return on("private-users.{$user}", event)


@dataclass(frozen=True, slots=True)
class StateField:
    name: str
    annotation: Any  # with any Annotated[...] wrapper removed
    default: Any  # _MISSING when the field is required
    metadata: tuple[Any, ...] = ()  # the Annotated extras: LOCKED, validation rules


@dataclass(frozen=True, slots=True)
class ActionSpec:
    name: str
    params: tuple[tuple[str, Any, Any], ...]  # (name, annotation, default or _MISSING)
    is_async: bool


class Component:
    """Base class of every livepy component. See docs/tutorial for a walk-through."""

    name: ClassVar[str] = ""
    template: ClassVar[str | None] = None
    template_source: ClassVar[str | None] = None

    __state_fields__: ClassVar[dict[str, StateField]] = {}
    __actions__: ClassVar[dict[str, ActionSpec]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" not in cls.__dict__ or not cls.__dict__["name"]:
            cls.name = registry.snake_case(cls.__name__)
        if inspect.iscoroutinefunction(cls.mount):
            raise ComponentDefinitionError(
                f"{cls.__qualname__}.mount must be a plain def: it runs while the page renders"
            )
        cls.__state_fields__ = _collect_state(cls)
        cls.__actions__ = _collect_actions(cls)
        inherited = cls.dump_state
        if "dump_state" not in cls.__dict__ and (
            inherited is Component.dump_state or statedump.is_compiled(inherited)
        ):  # the general dump, written out for this class's fields
            cls.dump_state = statedump.compile_dump_state(  # type: ignore[method-assign,assignment]
                cls, Component.dump_state
            )
        features.define(cls)
        registry.register(cls)

    def __init__(self) -> None:
        self.id: str = ""
        # key -> (component name, child id, root tag) of the components this one embeds
        self.children: dict[str, tuple[str, str, str]] = {}
        self.pending_broadcasts: list[PendingBroadcast] = []
        # kind -> values the browser acts on after this request's reply (see add_effect)
        self.pending_effects: dict[str, list[Any]] = {}
        # channel -> [epoch, offset] of the last broadcast event applied to this instance
        self.offsets: dict[str, list[Any]] = {}
        for state_field in self.__state_fields__.values():
            if state_field.default is not _MISSING:
                setattr(self, state_field.name, copy.deepcopy(state_field.default))

    def broadcast(
        self, channels_or_event: Any, event: str | None = None, data: Any = None
    ) -> PendingBroadcast:
        """Broadcast once this action succeeds; ``.to_others()`` skips this connection."""
        from livepy.broadcasting import PendingBroadcast, resolve

        channels, name, payload = resolve(channels_or_event, event, data)
        pending = PendingBroadcast(channels, name, payload)
        self.pending_broadcasts.append(pending)
        return pending

    def add_effect(self, kind: str, value: Any) -> None:
        """Queue a client-side effect (``dispatch``, ``redirect``...) for this request's reply.

        Effects travel in the REPLY frame as ``{kind: [value, ...]}`` and run in the browser
        after the morph, through the handler ``js/effects.js`` registered for ``kind``. A
        request that fails drops its effects, like its state change.
        """
        self.pending_effects.setdefault(kind, []).append(value)

    def push_event(self, event: str, data: Any = None) -> None:
        """Send ``data`` to this component's ``lp-hook`` handlers of ``event`` in the browser
        (``this.handleEvent(event, callback)``), after this request's reply is applied."""
        from livepy.features.hook_events import push_event

        push_event(self, event, data)

    def mount(self, **props: Any) -> None:
        """Runs once, on first render. By default, props are assigned to state fields."""
        for key, value in props.items():
            state_field = self.__state_fields__.get(key)
            if state_field is None:
                raise TypeError(
                    f"{type(self).__name__} has no state field {key!r}; "
                    "define mount() to accept other props"
                )
            setattr(self, key, convert(value, state_field.annotation, key))

    def validate(self, *fields: str) -> None:
        """Check the validation rules of ``fields`` (all by default); see features.validation."""
        from livepy.features.validation import validate

        validate(self, *fields)

    def dispatch(self, event: str, /, **params: Any) -> PendingDispatch:
        """Send ``event`` to the ``@on(event)`` listeners of the components on the page, once
        this request succeeds; narrow with ``.to("name")``, ``.up()`` or ``.self()``."""
        from livepy.features.events import dispatch

        return dispatch(self, event, params)

    def dispatch_browser(self, event: str, /, **detail: Any) -> None:
        """A DOM ``CustomEvent`` named ``event`` (with ``detail``) that bubbles to ``window``."""
        from livepy.features.events import dispatch_browser

        dispatch_browser(self, event, detail)

    def redirect(self, url: str, *, navigate: bool = False) -> None:
        """Go to ``url`` once this request succeeds: a full page load, or with ``navigate``
        a page swap without reload (as ``lp-navigate`` links do)."""
        from livepy.features.navigation import redirect

        redirect(self, url, navigate=navigate)

    def flash(self, message: str, level: str = "info") -> None:
        """A message for the next page the browser loads, read there with ``flashes()``."""
        from livepy.features.navigation import flash

        flash(self, message, level)

    def forget(self, *names: str) -> None:
        """Drop cached ``@computed`` values: the named ones, or all of them."""
        from livepy.features.computed import forget

        forget(self, *names)

    def stream(
        self,
        name: str,
        items: Iterable[Any] = (),
        *,
        at: Literal["end", "start"] = "end",
        reset: bool = False,
        limit: int | None = None,
        key: str | Callable[[Any], Any] = "id",
    ) -> None:
        """Send ``items`` to the browser's copy of stream ``name``, at its ``end`` or ``start``,
        without keeping them (see features.streams); ``reset`` empties it first, ``limit``
        keeps at most that many there; ``key`` names each item (an attribute, a dict key or a
        callable)."""
        from livepy.features.streams import stream

        stream(self, name, items, at=at, reset=reset, limit=limit, key=key)

    def stream_remove(
        self, name: str, *items_or_keys: Any, key: str | Callable[[Any], Any] = "id"
    ) -> None:
        """Remove items (or keys) from the browser's copy of stream ``name``."""
        from livepy.features.streams import stream_remove

        stream_remove(self, name, *items_or_keys, key=key)

    def stream_reset(self, name: str) -> None:
        """Empty the browser's copy of stream ``name``."""
        from livepy.features.streams import stream_reset

        stream_reset(self, name)

    # -- state <-> wire ------------------------------------------------------------

    def snapshot_state(self) -> dict[str, Any]:
        """``dump_state`` for a snapshot the browser will hold: runs ``dehydrate`` first."""
        features.dehydrate(self)
        return self.dump_state()

    def dump_state(self) -> dict[str, Any]:
        """The state as plain wire data. Raises TypeError naming a bad attribute."""
        state = {}
        for name, state_field in self.__state_fields__.items():
            try:
                value = getattr(self, name)
            except AttributeError:
                raise TypeError(
                    f"{type(self).__name__}.{name} has no value: give it a default or set it in "
                    "mount()"
                ) from None
            kind = type(value)  # plain scalars are their own wire form: no label, no call
            if (
                kind is str
                or kind is float
                or kind is bool
                or (kind is int and INT_MIN <= value <= INT_MAX)
            ):
                state[name] = value
                continue
            state[name] = dump(value, state_field.annotation, f"{type(self).__name__}.{name}")
        if self.children:
            state[CHILDREN_KEY] = {key: list(child) for key, child in self.children.items()}
        if self.offsets:
            state[OFFSETS_KEY] = {channel: list(at) for channel, at in self.offsets.items()}
        features.dump_extra(self, state)
        return state

    def load_state(self, state: dict[str, Any]) -> None:
        """Restore state from a verified snapshot."""
        for name, state_field in self.__state_fields__.items():
            if name in state:
                setattr(self, name, convert(state[name], state_field.annotation, name))
        self.offsets = {ch: list(at) for ch, at in (state.get(OFFSETS_KEY) or {}).items()}
        children = state.get(CHILDREN_KEY) or {}
        self.children = {key: (child[0], child[1], child[2]) for key, child in children.items()}
        features.load_extra(self, state)

    def set_field(self, name: str, value: Any) -> None:
        """Apply one model update from the client: only declared state, converted to its type,
        through the features' ``guard_update``, ``updating`` and ``updated`` hooks.

        ``name`` may reach into a dataclass field (``"form.email"``): the update converts
        to that attribute's type and sets only it."""
        head, _, rest = name.partition(".")
        state_field = self.__state_fields__.get(head)
        if state_field is None:
            raise ConversionError(f"{type(self).__name__} has no state field {head!r}")
        features.guard_update(self, name)
        target: Any = self
        attribute, annotation = head, state_field.annotation
        if rest:
            target, attribute, annotation = _reach(self, head, state_field.annotation, rest)
        converted = convert(value, annotation, name)
        features.updating(self, name, converted)
        setattr(target, attribute, converted)
        features.updated(self, name, converted)

    def template_context(self) -> dict[str, Any]:
        context = {name: getattr(self, name, None) for name in self.__state_fields__}
        context["this"] = self
        features.context(self, context)
        return context


def _reach(instance: Component, head: str, annotation: Any, rest: str) -> tuple[Any, str, Any]:
    """The object, attribute and annotation a dotted update path names inside a dataclass."""
    target: Any = getattr(instance, head)
    where = head
    parts = rest.split(".")
    for index, part in enumerate(parts):
        if not (dataclasses.is_dataclass(target) and dataclasses.is_dataclass(annotation)):
            raise ConversionError(f"{where} has no field {part!r} that can be updated")
        hints = typing.get_type_hints(annotation)
        if part not in hints or part.startswith("_"):
            raise ConversionError(f"{where} has no field {part!r}")
        if index == len(parts) - 1:
            return target, part, hints[part]
        target, annotation, where = getattr(target, part), hints[part], f"{where}.{part}"
    raise AssertionError("unreachable")  # pragma: no cover


def _collect_state(cls: type[Component]) -> dict[str, StateField]:
    try:
        hints = typing.get_type_hints(cls, include_extras=True)
    except NameError as exc:
        raise ComponentDefinitionError(
            f"{cls.__qualname__}: cannot resolve a state annotation ({exc}); "
            "define the types it uses at module level"
        ) from None
    own: dict[str, None] = {}
    for klass in reversed(cls.__mro__):
        if klass is Component or not issubclass(klass, Component):
            continue
        for name in inspect.get_annotations(klass):
            own[name] = None
    fields: dict[str, StateField] = {}
    for name in own:
        metadata: tuple[Any, ...] = ()
        hint = hints[name]
        if get_origin(hint) is Annotated:
            metadata = get_args(hint)[1:]
            hint = unwrap(hint)
        if name.startswith("_") or get_origin(hint) is ClassVar or hint is ClassVar:
            continue
        where = f"{cls.__qualname__}.{name}"
        if name in _RESERVED:
            raise ComponentDefinitionError(f"{where}: {name!r} is reserved by Component")
        try:
            check_supported(hint, where)
        except TypeError as exc:
            raise ComponentDefinitionError(str(exc)) from None
        default = getattr(cls, name, _MISSING)
        if hasattr(type(default), "__livepy_computed__"):
            raise ComponentDefinitionError(
                f"{where}: {name!r} is both a state field and a @computed property; rename one"
            )
        if callable(default) and not isinstance(default, type):
            raise ComponentDefinitionError(f"{where}: a state field cannot be a method")
        if default is not _MISSING:
            try:
                dump(default, hint, where)
            except TypeError as exc:
                raise ComponentDefinitionError(str(exc)) from None
        fields[name] = StateField(name, hint, default, metadata)
    return fields


def _collect_actions(cls: type[Component]) -> dict[str, ActionSpec]:
    actions: dict[str, ActionSpec] = {}
    for name in dir(cls):
        fn = getattr(cls, name, None)
        if not getattr(fn, "__livepy_action__", False):
            continue
        where = f"{cls.__qualname__}.{name}"
        forbidden = {
            "mount",
            "dump_state",
            "load_state",
            "set_field",
            "snapshot_state",
            "broadcast",
            "dispatch",
            "dispatch_browser",
            "redirect",
            "flash",
            "template_context",
            "validate",
            "forget",
            "stream",
            "stream_remove",
            "stream_reset",
            *HOOK_METHODS,
        }
        if name.startswith("_") or name in forbidden:
            raise ComponentDefinitionError(f"{where}: this method cannot be an @action")
        assert callable(fn)
        params = typed_parameters(
            fn,
            where,
            refused_kinds=(_Param.VAR_POSITIONAL, _Param.VAR_KEYWORD, _Param.KEYWORD_ONLY),
            refusal=lambda name: f"action parameters must be positional ({name})",
            filled_from="browser input",
        )
        actions[name] = ActionSpec(name, params, inspect.iscoroutinefunction(fn))
    return actions


def convert_arguments(spec: ActionSpec, args: tuple[Any, ...]) -> list[Any]:
    """Convert positional call arguments to the action's annotations."""
    if len(args) > len(spec.params):
        raise ConversionError(
            f"{spec.name}() takes {len(spec.params)} argument(s), {len(args)} given"
        )
    converted = []
    for index, (pname, annotation, default) in enumerate(spec.params):
        if index < len(args):
            converted.append(convert(args[index], annotation, f"{spec.name}({pname})"))
        elif default is _MISSING:
            raise ConversionError(f"{spec.name}() is missing argument {pname!r}")
        else:
            converted.append(default)
    return converted
