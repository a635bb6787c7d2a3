"""Channel listeners of live components: subscribe, authorize, follow state, run on events.

A component's ``@on("private-orders.{order_id}", "OrderShipped")`` methods subscribe it to
the channel named by its current state; when that state changes, the subscription moves.
Private and presence channels are authorized for the connection's user first; a refused
channel gets an error frame for that component only, and not a single event.
"""

from __future__ import annotations

import functools
import inspect
import logging
import string
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import msgpack

from livepy.broker import BrokerError
from livepy.broker.hub import Event, decode_event
from livepy.channels import ChannelKind, kind_of, validate_channel_name
from livepy.component import Component
from livepy.protocol import constants as c
from livepy.protocol.errors import ProtocolError

if TYPE_CHECKING:
    from livepy.broadcasting import Broadcaster

__all__ = ["ChannelListeners", "EventChange", "channel_listeners"]

logger = logging.getLogger("livepy.broadcasting")

# Published on a presence channel whenever its members may have changed.
PRESENCE_EVENT = "$presence"

USER_PLACEHOLDER = "$user"
NOTIFICATION_PREFIX = "private-users."

ListenerSpec = dict[tuple[str, str], list[str]]  # (channel template, event) -> method names
_cache: dict[type[Component], ListenerSpec] = {}


def channel_listeners(cls: type[Component]) -> ListenerSpec:
    spec = _cache.get(cls)
    if spec is None:
        spec = {}
        for name in dir(cls):
            for channel, event in getattr(getattr(cls, name, None), "__livepy_listeners__", []):
                if event is not None:
                    spec.setdefault((channel, event), []).append(name)
        _cache[cls] = spec
    return spec


def user_id_of(user: Any) -> str | None:
    """A user's id for ``private-users.{id}``: ``.identity``, ``["id"]``, or ``str(user)``."""
    if user is None:
        return None
    try:
        identity = getattr(user, "identity", None)
    except NotImplementedError:  # starlette's BaseUser leaves identity abstract
        identity = None
    if identity is not None:
        return str(identity)
    if isinstance(user, dict):
        return None if user.get("id") is None else str(user["id"])
    return str(user)


# Channel templates come from @on decorators: a bounded set, parsed once each.
_FIELDS: dict[str, tuple[str, ...]] = {}
_FIXED: dict[str, str | None] = {}


def _fields(template: str) -> tuple[str, ...]:
    fields = _FIELDS.get(template)
    if fields is None:
        parsed = string.Formatter().parse(template)
        fields = _FIELDS[template] = tuple(name for _, name, _, _ in parsed if name is not None)
    return fields


def _fill(template: str, instance: Component, user_id: str | None) -> str | None:
    """The channel name for this instance, or None while a placeholder has no value.

    ``{$user}`` is the connection's user id (used by ``@on_notification``).
    """
    fields = _fields(template)
    if not fields:
        return _fixed_name(template)
    values = {}
    for field in fields:
        value = user_id if field == USER_PLACEHOLDER else getattr(instance, field, None)
        if value is None or value == "":
            return None
        values[field] = value.value if hasattr(value, "value") else value
    try:
        return validate_channel_name(template.format(**values))
    except (ValueError, KeyError, IndexError):
        return None


def _fixed_name(template: str) -> str | None:
    """A template without placeholders as a channel name: checked once (a fan-out fills it
    for every component), None when it is not a valid name."""
    if template not in _FIXED:
        try:
            _FIXED[template] = validate_channel_name(template)
        except ValueError:
            _FIXED[template] = None
    return _FIXED[template]


# class -> the channels it listens on when no template has a placeholder, else None
_FIXED_CHANNELS: dict[type[Component], frozenset[str] | None] = {}
_NONE: frozenset[str] = frozenset()


def _fixed_channels(cls: type[Component], spec: ListenerSpec) -> frozenset[str] | None:
    try:
        return _FIXED_CHANNELS[cls]
    except KeyError:
        pass
    fixed = None
    if not any(_fields(template) for template, _ in spec):
        names = (_fixed_name(template) for template, _ in spec)
        fixed = frozenset(name for name in names if name is not None)
    _FIXED_CHANNELS[cls] = fixed
    return fixed


# Queues (ref, change) on the session, without waiting: a change may return its throttle, or
# an awaitable of it (livepy.session.Change)
# runs a change on components, given by ref in order
Run = Callable[[list[int], Callable[[Component], Awaitable[float | None] | float | None]], None]


class ChannelListeners:
    """The channels one connection's components listen on."""

    def __init__(self, broadcaster: Broadcaster, *, user: Any, connection_id: str) -> None:
        self.broadcaster = broadcaster
        self.user = user
        self.user_id = user_id_of(user)
        self.connection_id = connection_id
        self.run: Run | None = None  # set by the session: runs a change on its components
        self._by_ref: dict[int, set[str]] = {}
        self._refs: dict[str, set[int]] = {}
        self._allowed: dict[str, bool] = {}
        self._refused: dict[int, set[str]] = {}  # reported once, until the state moves on
        self._member_info: dict[str, dict[str, Any]] = {}  # presence channel -> our member
        self._members: dict[str, dict[str, Any]] = {}  # presence channel -> id -> member

    def may_sync(self, ref: int, instance: Component) -> bool:
        """False when ``sync`` has nothing to do: ``ref`` listens on nothing and never did
        (lets the click path skip the coroutine)."""
        return bool(channel_listeners(type(instance))) or ref in self._by_ref

    def settled(self, ref: int, instance: Component) -> bool:
        """True when ``sync`` has nothing to do: ``ref`` listens on exactly the channels its
        state names, with none refused (the usual push; lets it skip the coroutine)."""
        current = self._by_ref.get(ref, _NONE)
        fixed = _FIXED_CHANNELS.get(type(instance))  # the usual class: no placeholders
        if fixed is not None:
            return fixed == current and not self._refused.get(ref)
        spec = channel_listeners(type(instance))
        if not spec and ref not in self._by_ref:
            return True
        return not self._refused.get(ref) and self._wanted(spec, instance) == current

    def _wanted(self, spec: ListenerSpec, instance: Component) -> set[str] | frozenset[str]:
        fixed = _fixed_channels(type(instance), spec)
        if fixed is not None:  # no placeholders: the same channels for every instance
            return fixed
        return {
            name
            for template, _ in spec
            if (name := _fill(template, instance, self.user_id)) is not None
        }

    async def sync(self, ref: int, instance: Component) -> list[ProtocolError]:
        """Subscribe ``ref`` to the channels its state names now; return refusals."""
        spec = channel_listeners(type(instance))
        if not spec and ref not in self._by_ref:
            return []  # most components listen on nothing: no sets to build on every call
        wanted = self._wanted(spec, instance)
        current = self._by_ref.get(ref, set())
        if wanted == current and not self._refused.get(ref):
            return []  # the usual push: the same channels, no sets to build and compare
        refused = self._refused.setdefault(ref, set())
        refused &= wanted
        refusals = []
        for channel in wanted - current - refused:
            allowed = await self.authorize(channel)
            reason = None if allowed else f"not allowed to listen on {channel!r}"
            if allowed and channel in self._member_info:
                reason = await self._presence_refusal(channel)
            if reason is not None:
                refused.add(channel)
                refusals.append(ProtocolError(c.ERR_CHANNEL_FORBIDDEN, reason, cid=instance.id))
                continue
            await self._add(ref, channel)
        for channel in current - wanted:
            await self._remove(ref, channel)
        return refusals

    async def authorize(self, channel: str) -> bool:
        """May this connection's user listen on ``channel``? Asked once per connection."""
        allowed = self._allowed.get(channel)
        if allowed is not None:
            return allowed
        if kind_of(channel) is ChannelKind.PUBLIC:
            allowed = True
        elif self.user_id is not None and channel == f"{NOTIFICATION_PREFIX}{self.user_id}":
            allowed = True  # everyone may hear their own notifications
        else:
            try:
                result = await self.broadcaster.authorizer.authorize(self.user, channel)
            except Exception:
                logger.exception("event=authorize_error channel=%s", channel)
                result = None
            allowed = bool(result and result.allowed)
            if allowed and result is not None and result.member is not None:
                self._member_info[channel] = result.member
        self._allowed[channel] = allowed
        return allowed

    async def _presence_refusal(self, channel: str) -> str | None:
        """Why our member may not join ``channel`` (Pusher's caps, when set), or None."""
        limits = self.broadcaster.presence_limits
        if limits is None or self.listens_on(channel):
            return None  # no caps, or another component here made us a member already
        member = self._member_info[channel]
        user_id = str(member.get("id"))
        bad = limits.bad_member(user_id, member)
        return bad or await limits.full(self.broadcaster.hub, channel, user_id)

    def member_of(self, channel: str) -> dict[str, Any] | None:
        """This connection's member info on an authorized presence channel, else None."""
        return self._member_info.get(channel)

    async def _add(self, ref: int, channel: str) -> None:
        self._by_ref.setdefault(ref, set()).add(channel)
        refs = self._refs.setdefault(channel, set())
        if not refs:
            await self.broadcaster.hub.listen(channel, self.deliver)
        refs.add(ref)
        member = self._member_info.get(channel)
        if member is not None:
            self.broadcaster.watch_presence()
            await self._presence_changed(channel, ref, member)

    async def _presence_changed(
        self, channel: str, ref: int, member: dict[str, Any] | None
    ) -> None:
        """Record (or, with None, remove) this component's presence and tell every node."""
        backend = self.broadcaster.hub.backend
        key = f"{self.connection_id}:{ref}"
        try:
            if member is None:
                await backend.presence_remove(channel, key)
            else:
                await backend.presence_set(channel, key, msgpack.packb(member))
            await self.broadcaster.hub.publish(channel, PRESENCE_EVENT, None)
        except BrokerError as exc:
            logger.warning("event=presence_failed channel=%s error=%s", channel, exc)

    async def _remove(self, ref: int, channel: str) -> None:
        self._by_ref.get(ref, set()).discard(channel)
        refs = self._refs.get(channel)
        if refs is None:
            return
        refs.discard(ref)
        if channel in self._member_info:
            await self._presence_changed(channel, ref, None)
        if not refs:
            del self._refs[channel]
            self._members.pop(channel, None)
            await self.broadcaster.hub.unlisten(channel, self.deliver)

    async def recover(self, ref: int, instance: Component) -> list[str]:
        """Apply the events this instance missed while its browser was away.

        Uses the offsets kept in its signed snapshot; returns the channels whose history no
        longer reaches back that far (the events in between are lost).
        """
        lost = []
        for channel, (epoch, offset) in sorted(instance.offsets.items()):
            if not self.listening(ref, channel):
                continue
            try:
                missed = await self.broadcaster.hub.backend.history(channel, epoch, str(offset))
            except BrokerError as exc:
                logger.warning("event=history_failed channel=%s error=%s", channel, exc)
                missed = None
            if missed is None:
                lost.append(channel)
                continue
            for delivery in missed:
                event = decode_event(delivery)
                if event.name != PRESENCE_EVENT:
                    outcome = _handle(event, self.user_id, instance)
                    if outcome is not None and not isinstance(outcome, float):
                        await outcome
        return lost

    def listens_on(self, channel: str) -> bool:
        """Does any component of this connection listen on ``channel`` now?"""
        return bool(self._refs.get(channel))

    def listening(self, ref: int, channel: str) -> bool:
        return channel in self._by_ref.get(ref, set())

    async def drop(self, ref: int) -> None:
        self._refused.pop(ref, None)
        for channel in list(self._by_ref.pop(ref, set())):
            self._by_ref[ref] = set()
            await self._remove(ref, channel)
        self._by_ref.pop(ref, None)

    async def close(self) -> None:
        for ref in list(self._by_ref):
            await self.drop(ref)

    async def deliver(self, event: Event) -> None:
        if event.exclude is not None and event.exclude == self.connection_id:
            return
        if event.name == PRESENCE_EVENT:
            await self._deliver_presence(event.channel)
            return
        refs = self._refs.get(event.channel)
        if self.run is not None and refs:
            self.run(sorted(refs), EventChange(event, self.user_id))

    async def _deliver_presence(self, channel: str) -> None:
        """Members changed somewhere: run here / joining / leaving with the differences.

        Members are counted per user (their ``id``), not per tab or component.
        """
        try:
            entries = await self.broadcaster.hub.backend.presence_members(channel)
        except BrokerError as exc:
            logger.warning("event=presence_failed channel=%s error=%s", channel, exc)
            return
        now: dict[str, Any] = {}
        for raw in sorted(entries.values()):
            member = msgpack.unpackb(raw, raw=False)
            now.setdefault(str(member.get("id")), member)
        first = channel not in self._members  # the first list is `here`, not a join
        before = self._members.get(channel, {})
        self._members[channel] = now
        joined = [] if first else [now[k] for k in now if k not in before]
        left = [] if first else [before[k] for k in before if k not in now]
        members = list(now.values())
        for ref in sorted(self._refs.get(channel, ())):
            if self.run is not None:
                self.run(
                    [ref],
                    lambda instance: _handle_presence(
                        instance, channel, members, joined, left, self.user_id
                    ),
                )


class EventChange(functools.partial[float | Awaitable[float | None] | None]):
    """The change a broadcast event makes to one instance, ``change(instance)``; ``event`` keys
    shared renders. A partial of ``_handle``: calling it costs no Python frame of its own."""

    event: Event

    def __new__(cls, event: Event, user_id: str | None) -> EventChange:
        change = super().__new__(cls, _handle, event, user_id)
        change.event = event
        return change


async def _call(instance: Component, method: str, argument: Any) -> None:
    result = getattr(instance, method)(argument)
    if inspect.isawaitable(result):
        await result


async def _handle_presence(
    instance: Component,
    channel: str,
    members: list[Any],
    joined: list[Any],
    left: list[Any],
    user_id: str | None,
) -> None:
    for (template, name), methods in channel_listeners(type(instance)).items():
        if not name.startswith(PRESENCE_EVENT) or _fill(template, instance, user_id) != channel:
            continue
        hook = name.split(":", 1)[1]
        for method in methods:
            if hook == "here":
                await _call(instance, method, members)
            for member in joined if hook == "joining" else left if hook == "leaving" else []:
                await _call(instance, method, member)


def _handle(
    event: Event, user_id: str | None, instance: Component
) -> float | Awaitable[float | None] | None:
    """Run the matching listeners; return the longest throttle among them (or None).

    Listeners that are plain functions run here, without a coroutine (one broadcast reaches
    thousands of components); from the first one that returns an awaitable, the rest run in
    a coroutine, which is returned. Placeholders are filled as each listener is reached, so a
    listener that moves the state moves the channels the next ones match.
    """
    if event.epoch:  # remember how far this instance got, for recovery after a reconnect
        reached = instance.offsets.get(event.channel)
        if reached is None:
            instance.offsets[event.channel] = [event.epoch, int(event.offset)]
        else:  # in place: no new object per push (each instance has lists of its own)
            reached[:] = event.epoch, int(event.offset)
    cls = type(instance)
    heard = _HEARD.get((cls, event.channel, event.name))  # known: no lookups per component
    if heard is None:
        spec = channel_listeners(cls)
        if _fixed_channels(cls, spec) is not None:
            heard = _heard(cls, spec, event)
    if heard is not None:  # no placeholders: which methods hear it is the class's to say
        methods, longest = heard
        for position, method in enumerate(methods):
            result = getattr(instance, method)(event.data)
            if result is not None and inspect.isawaitable(result):
                ran = None
                for earlier in methods[:position]:
                    ran = _longest(ran, instance, earlier)
                return _handle_rest(instance, event, user_id, result, ran, methods[position:], [])
        return longest
    throttle: float | None = None
    spec = channel_listeners(cls)
    for index, ((template, name), methods) in enumerate(spec.items()):
        if not _matches(template, name, instance, event, user_id):
            continue
        for position, method in enumerate(methods):
            result = getattr(instance, method)(event.data)
            if result is not None and inspect.isawaitable(result):
                rest = methods[position:], list(spec.items())[index + 1 :]
                return _handle_rest(instance, event, user_id, result, throttle, *rest)
            throttle = _longest(throttle, instance, method)
    return throttle


# (class, channel, event name) -> the methods of a class without placeholders that hear it, in
# order, and their longest throttle: asked once, where a fan-out matched per component
Heard = tuple[list[str], float | None]
_HEARD: dict[tuple[type[Component], str, str], Heard] = {}
_MAX_HEARD = 4096  # event names are the broadcasters' to choose: the cache starts over past this


def _heard(cls: type[Component], spec: ListenerSpec, event: Event) -> Heard:
    """Find and remember which methods of ``cls`` hear ``event`` (``_handle`` looks first)."""
    methods = [
        method
        for (template, name), more in spec.items()
        if name == event.name and _fixed_name(template) == event.channel
        for method in more
    ]
    longest = None
    for method in methods:
        interval = getattr(getattr(cls, method), "__livepy_throttle__", None)
        longest = longest if interval is None else max(longest or 0.0, interval)
    if len(_HEARD) >= _MAX_HEARD:
        _HEARD.clear()
    heard = _HEARD[(cls, event.channel, event.name)] = (methods, longest)
    return heard


def _matches(
    template: str, name: str, instance: Component, event: Event, user_id: str | None
) -> bool:
    """Whether the listener ``(template, name)`` of ``instance`` hears ``event`` (placeholders
    filled from the state as it is now)."""
    return name == event.name and _fill(template, instance, user_id) == event.channel


async def _handle_rest(
    instance: Component,
    event: Event,
    user_id: str | None,
    awaiting: Awaitable[Any],
    throttle: float | None,
    methods: list[str],
    listeners: list[tuple[tuple[str, str], list[str]]],
) -> float | None:
    """``_handle`` from the listener ``methods[0]`` returned ``awaiting`` on."""
    await awaiting
    throttle = _longest(throttle, instance, methods[0])
    for method in methods[1:]:
        await _call(instance, method, event.data)
        throttle = _longest(throttle, instance, method)
    for (template, name), more in listeners:
        if not _matches(template, name, instance, event, user_id):
            continue
        for method in more:
            await _call(instance, method, event.data)
            throttle = _longest(throttle, instance, method)
    return throttle


# (class, listener method) -> its throttle interval: asked once per component per broadcast,
# where a bound method and a missed attribute lookup each time were 4% of a fan-out
_THROTTLES: dict[tuple[type[Component], str], float | None] = {}


def _longest(throttle: float | None, instance: Component, method: str) -> float | None:
    key = (type(instance), method)
    try:
        interval = _THROTTLES[key]
    except KeyError:
        interval = _THROTTLES[key] = getattr(getattr(instance, method), "__livepy_throttle__", None)
    return throttle if interval is None else max(throttle or 0.0, interval)
