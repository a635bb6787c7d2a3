"""The channels a page's JavaScript uses directly: subscriptions, channel events and whispers.

``livepy.channel("presence-room.1")`` in the browser sends SUBSCRIBE; the connection is
authorized for the channel as for a component listener (the same per-connection cache), and
from then on every event on the channel reaches the page as an EVENT frame
``[12, channel, event, data]``, for ``.listen()`` and ``.listenForWhisper()`` callbacks that
run without a server round trip. The outcome of a subscription comes back on the channel
itself: ``livepy:subscribed``, or ``livepy:error`` with ``{"code", "message"}``.

A WHISPER is a client event: it is published on the channel as ``client-<event>`` with the
envelope ``{"data": ..., "user_id": ...}`` that the Pusher endpoint uses too, so it reaches
livepy components (``@on(channel, "client-typing")``), livepy pages and pusher-js clients on
every process. It is refused on public channels and on channels this connection is not
authorized for and listening on; it is never echoed to the sending connection; and each
connection may whisper at most ``Limits.max_whispers_per_second`` times per second (a token
bucket), each carrying at most ``Limits.max_whisper_bytes`` of data. A refusal is a
``livepy:error`` event on the channel, never a disconnect.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
import re
import time
from typing import TYPE_CHECKING, Any

import msgpack

from livepy.broker import BrokerError
from livepy.broker.hub import Event
from livepy.channels.names import ChannelKind, kind_of, validate_channel_name
from livepy.protocol import constants as c
from livepy.protocol.frames import ChannelEvent, Subscribe, Unsubscribe, Whisper, encode

if TYPE_CHECKING:
    from livepy.session import LiveSession

__all__ = [
    "CLIENT_EVENT_PREFIX",
    "MAX_PAGE_CHANNELS",
    "MAX_PAGE_REFUSALS",
    "STATUS_ERROR",
    "STATUS_SUBSCRIBED",
    "PageChannels",
]

logger = logging.getLogger("livepy.broadcasting")

CLIENT_EVENT_PREFIX = "client-"
STATUS_SUBSCRIBED = "livepy:subscribed"
STATUS_ERROR = "livepy:error"
MAX_PAGE_CHANNELS = 100  # JS subscriptions per connection
# Refused SUBSCRIBEs per connection before the server stops asking the channel rules: each
# refusal is remembered by the connection's authorization cache and may cost the app a lookup.
MAX_PAGE_REFUSALS = 100
_EVENT_NAME = re.compile(r"^[A-Za-z0-9_\-=@,.;:]{1,120}$")
# Presence events are internal to the hub ("$presence"); they never go to the page.
_INTERNAL_PREFIX = "$"

PageFrame = Subscribe | Unsubscribe | Whisper


class PageChannels:
    """One connection's JS channel subscriptions and whispers."""

    def __init__(self, session: LiveSession) -> None:
        self.session = session
        self.listeners = session.listeners
        self.hub = session.live.broadcaster.hub
        self.rate = float(session.live.limits.max_whispers_per_second)
        self.max_whisper_bytes = session.live.limits.max_whisper_bytes
        self.subscribed: set[str] = set()
        self.refusals = 0
        self._allowance = self.rate
        self._allowance_at = time.monotonic()
        self._outbox: asyncio.Queue[bytes] | None = None
        self._sender: asyncio.Task[None] | None = None
        self._overflowed = False
        self._overflow_task: asyncio.Task[None] | None = None

    async def handle(self, frame: PageFrame) -> list[bytes]:
        if isinstance(frame, Subscribe):
            return [await self.subscribe(frame.channel)]
        if isinstance(frame, Unsubscribe):
            await self.unsubscribe(frame.channel)
            return []
        error = await self.whisper(frame)
        return [] if error is None else [error]

    # -- subscriptions --------------------------------------------------------------------

    async def subscribe(self, channel: str) -> bytes:
        try:
            channel = validate_channel_name(channel)
        except ValueError as exc:
            return _status(channel[:200], c.ERR_CHANNEL_FORBIDDEN, str(exc))
        if channel in self.subscribed:
            return encode(ChannelEvent(channel, STATUS_SUBSCRIBED, None))
        if len(self.subscribed) >= MAX_PAGE_CHANNELS:
            return _status(
                channel,
                c.ERR_CHANNEL_FORBIDDEN,
                f"this page already listens on {MAX_PAGE_CHANNELS} channels (the limit)",
            )
        if self.refusals >= MAX_PAGE_REFUSALS:
            return _status(
                channel,
                c.ERR_CHANNEL_FORBIDDEN,
                f"{MAX_PAGE_REFUSALS} subscriptions of this page were refused (the limit): "
                "no more are checked on this connection",
            )
        if not await self.listeners.authorize(channel):
            self.refusals += 1
            return _status(
                channel, c.ERR_CHANNEL_FORBIDDEN, f"not allowed to listen on {channel!r}"
            )
        try:
            await self.hub.listen(channel, self.deliver)
        except BrokerError as exc:
            return _status(channel, c.ERR_CHANNEL_FORBIDDEN, f"broker unavailable: {exc}")
        self.subscribed.add(channel)
        return encode(ChannelEvent(channel, STATUS_SUBSCRIBED, None))

    async def unsubscribe(self, channel: str) -> None:
        if channel in self.subscribed:
            self.subscribed.discard(channel)
            await self.hub.unlisten(channel, self.deliver)

    async def close(self) -> None:
        for channel in list(self.subscribed):
            with contextlib.suppress(BrokerError):
                await self.unsubscribe(channel)
        if self._sender is not None and not self._sender.done():
            self._sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sender

    # -- whispers -------------------------------------------------------------------------

    async def whisper(self, frame: Whisper) -> bytes | None:
        """Publish a client event; return the ``livepy:error`` event of a refusal."""
        channel = frame.channel
        try:
            validate_channel_name(channel)
        except ValueError as exc:
            return _status(channel[:200], c.ERR_WHISPER_REFUSED, str(exc))
        if kind_of(channel) is ChannelKind.PUBLIC:
            return _status(
                channel,
                c.ERR_WHISPER_REFUSED,
                f"whispers are only for private- and presence- channels, not {channel!r}",
            )
        listening = channel in self.subscribed or self.listeners.listens_on(channel)
        if not listening or not await self.listeners.authorize(channel):
            return _status(
                channel,
                c.ERR_WHISPER_REFUSED,
                f"this page does not listen on {channel!r}: subscribe first "
                "(livepy.channel(name)) and be authorized for it",
            )
        name = frame.event.removeprefix(CLIENT_EVENT_PREFIX)
        if not _EVENT_NAME.match(name):
            return _status(
                channel,
                c.ERR_WHISPER_REFUSED,
                "a whisper's event name is 1 to 120 of A-Z a-z 0-9 _ - = @ , . ; :",
            )
        size = _payload_bytes(frame.data)
        if size is None or size > self.max_whisper_bytes:
            return _status(
                channel,
                c.ERR_WHISPER_REFUSED,
                f"a whisper's data is at most {self.max_whisper_bytes} bytes as JSON "
                f"(Limits.max_whisper_bytes); this one has {size or 'more'}",
            )
        if not self._take():
            return _status(
                channel,
                c.ERR_WHISPER_RATE_LIMITED,
                f"more than {self.rate:g} whispers per second from this page; this one was dropped",
            )
        member = self.listeners.member_of(channel)
        envelope = {"data": frame.data, "user_id": None if member is None else str(member["id"])}
        try:
            await self.hub.publish(
                channel, CLIENT_EVENT_PREFIX + name, envelope, self.session.connection_id
            )
        except BrokerError as exc:
            logger.warning("event=whisper_failed channel=%s error=%s", channel, exc)
            return _status(channel, c.ERR_WHISPER_REFUSED, f"broker unavailable: {exc}")
        return None

    def _take(self) -> bool:
        """A token bucket of ``rate`` whispers per second, holding at most ``rate`` tokens."""
        now = time.monotonic()
        self._allowance = min(self.rate, self._allowance + (now - self._allowance_at) * self.rate)
        self._allowance_at = now
        if self._allowance < 1.0:
            return False
        self._allowance -= 1.0
        return True

    # -- delivery to the page -------------------------------------------------------------

    async def deliver(self, event: Event) -> None:
        """Queue an event of a subscribed channel for the page; never wait for its socket."""
        if event.name.startswith(_INTERNAL_PREFIX) or event.channel not in self.subscribed:
            return
        if event.exclude is not None and event.exclude == self.session.connection_id:
            return
        if self.session.push is None:
            return
        if self._outbox is None:
            self._outbox = asyncio.Queue(self.session.live.limits.max_pending_pushes)
        try:
            self._outbox.put_nowait(encode(ChannelEvent(event.channel, event.name, event.data)))
        except asyncio.QueueFull:
            self._overflow()
            return
        if self._sender is None or self._sender.done():
            self._sender = asyncio.get_running_loop().create_task(self._send())

    def _overflow(self) -> None:
        if self._overflowed:
            return
        self._overflowed = True
        logger.warning("event=slow_consumer client=%s channel_events", self.session.client)
        overflow = self.session.on_overflow
        if overflow is not None:  # the transport closes with 4008; the page rejoins
            self._overflow_task = asyncio.get_running_loop().create_task(overflow())

    async def _send(self) -> None:
        while self._outbox is not None and not self._outbox.empty():
            frame = self._outbox.get_nowait()
            push = self.session.push
            if push is not None:
                sent = push(frame)
                if inspect.isawaitable(sent):
                    await sent


def _status(channel: str, code: str, message: str) -> bytes:
    return encode(ChannelEvent(channel, STATUS_ERROR, {"code": code, "message": message}))


def _payload_bytes(data: Any) -> int | None:
    """A whisper's size as pusher-js clients receive it: compact UTF-8 JSON. Data JSON cannot
    hold (bytes from a msgpack page) is measured as msgpack, which only livepy pages receive;
    None when neither can encode it (nested too deep), which is refused like an oversize."""
    try:
        return len(json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode())
    except (TypeError, ValueError, RecursionError):
        pass
    try:
        return len(msgpack.packb(data))
    except (TypeError, ValueError, RecursionError, OverflowError):
        return None
