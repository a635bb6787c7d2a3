"""Broadcasting: ``live.broadcast(...)``, event classes, and ``@live.channel`` authorization.

A broadcast goes through the broker to every process; each process runs the matching
``@on(channel, event)`` listeners of the component instances it holds, re-renders them and
pushes the patches. Sensitive fields never reach a public channel: the check runs before
anything is sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import msgpack

from livepy.broker import Hub, backend_for
from livepy.channels import ChannelAuthorizer, ChannelKind, kind_of, validate_channel_name
from livepy.channels.presence_limits import PresenceLimits
from livepy.exceptions import LivepyError
from livepy.fanout import SharedRenders

if TYPE_CHECKING:
    from livepy.session import LiveSession

__all__ = ["BroadcastEvent", "Broadcaster", "PendingBroadcast", "SensitiveDataError"]

F = TypeVar("F", bound=Callable[..., Any])


class SensitiveDataError(LivepyError):
    """An event with sensitive fields was about to go out on a public channel."""


class BroadcastEvent:
    """Base of event classes: ``await live.broadcast(OrderShipped(order))``.

    Override ``broadcast_on`` (the channel or channels), and optionally ``broadcast_as``
    (the event name; default: the class name) and ``broadcast_with`` (the payload;
    default: the dataclass fields or public attributes). Names in ``sensitive`` may only
    travel on private and presence channels.
    """

    sensitive: ClassVar[frozenset[str] | set[str]] = frozenset()

    def broadcast_on(self) -> str | list[str]:
        raise NotImplementedError(f"{type(self).__name__} must define broadcast_on()")

    def broadcast_as(self) -> str:
        return type(self).__name__

    def broadcast_with(self) -> dict[str, Any]:
        if dataclasses.is_dataclass(self):
            return dataclasses.asdict(self)
        return {k: v for k, v in vars(self).items() if not k.startswith("_")}


class PendingBroadcast:
    """A broadcast requested inside an action; sent once the action has succeeded."""

    def __init__(self, channels: list[str], event: str, data: Any) -> None:
        self.channels = channels
        self.event = event
        self.data = data
        self.exclude_sender = False

    def to_others(self) -> PendingBroadcast:
        """Do not deliver it to the connection whose action sent it."""
        self.exclude_sender = True
        return self


def _channels(value: str | Iterable[str]) -> list[str]:
    channels = [value] if isinstance(value, str) else list(value)
    if not channels:
        raise ValueError("broadcast needs at least one channel")
    return [validate_channel_name(channel) for channel in channels]


def resolve(
    channels_or_event: str | Iterable[str] | BroadcastEvent, event: str | None, data: Any
) -> tuple[list[str], str, Any]:
    if isinstance(channels_or_event, BroadcastEvent):
        item = channels_or_event
        channels = _channels(item.broadcast_on())
        payload = item.broadcast_with()
        leaked = set(item.sensitive) & set(payload)
        public = [ch for ch in channels if kind_of(ch) is ChannelKind.PUBLIC]
        if leaked and public:
            raise SensitiveDataError(
                f"{type(item).__name__} carries sensitive field(s) {', '.join(sorted(leaked))} "
                f"and may not be broadcast on public channel(s) {', '.join(public)}; "
                "use a private- or presence- channel or leave the field out"
            )
        return channels, item.broadcast_as(), _checked(payload)
    if event is None:
        raise TypeError("broadcast(channel, event, data): the event name is missing")
    return _channels(channels_or_event), event, _checked(data)


def _checked(data: Any) -> Any:
    """Refuse, before anything is sent, data that cannot travel (msgpack plain data only)."""
    try:
        msgpack.packb(data, use_bin_type=True)
    except (TypeError, ValueError, OverflowError) as exc:
        raise TypeError(
            f"broadcast data must be plain data (dict, list, str, int, float, bool, None): {exc}"
        ) from None
    return data


class Broadcaster:
    """The broadcasting half of a LivePy: its hub, its channel rules, its sessions."""

    def __init__(self, broker_url: str) -> None:
        self.hub = Hub(backend_for(broker_url))
        self.renders = SharedRenders()  # render-once fan-out (livepy/fanout.py)
        self.authorizer = ChannelAuthorizer()
        self.sessions_by_connection: dict[str, LiveSession] = {}
        # Pusher's presence caps for components too; set by the Pusher server (first app).
        self.presence_limits: PresenceLimits | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sweeper: asyncio.Task[None] | None = None

    def remember_loop(self) -> None:
        """Note the server's event loop (called from it), for ``broadcast_sync`` from threads."""
        with contextlib.suppress(RuntimeError):  # not in a loop (a sync test client)
            self._loop = asyncio.get_running_loop()

    def watch_presence(self) -> None:
        """Start re-checking presence channels, so members of a dead process are seen to leave.

        Only brokers whose presence expires (``presence_ttl``) need it; the memory broker
        lives and dies with its only process.
        """
        ttl = getattr(self.hub.backend, "presence_ttl", None)
        if ttl is None or (self._sweeper is not None and not self._sweeper.done()):
            return
        self._sweeper = asyncio.get_running_loop().create_task(self._sweep(float(ttl) / 4))

    async def _sweep(self, interval: float) -> None:
        from livepy.listeners import PRESENCE_EVENT

        while True:
            await asyncio.sleep(interval)
            for channel in self.hub.channels():
                if kind_of(channel) is ChannelKind.PRESENCE:
                    await self.hub.deliver_locally(channel, PRESENCE_EVENT)

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        await self.hub.stop()

    def channel(self, pattern: str) -> Callable[[F], F]:
        """Register who may subscribe to ``private-<pattern>`` and ``presence-<pattern>``."""

        def register(callback: F) -> F:
            self.authorizer.register(pattern, callback)
            return callback

        return register

    async def broadcast(
        self,
        channels_or_event: str | Iterable[str] | BroadcastEvent,
        event: str | None = None,
        data: Any = None,
        *,
        exclude: str | None = None,
    ) -> None:
        channels, name, payload = resolve(channels_or_event, event, data)
        self._loop = asyncio.get_running_loop()
        for channel in channels:
            await self.hub.publish(channel, name, payload, exclude)

    def broadcast_sync(
        self,
        channels_or_event: str | Iterable[str] | BroadcastEvent,
        event: str | None = None,
        data: Any = None,
        *,
        exclude: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        """Broadcast from a thread that is not the server's event loop (for example a worker)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            raise RuntimeError(
                "broadcast_sync needs the server's event loop: it is known once a client has "
                "connected or `await live.broadcast(...)` has run in it"
            )
        coro = self.broadcast(channels_or_event, event, data, exclude=exclude)
        asyncio.run_coroutine_threadsafe(coro, loop).result(timeout)
