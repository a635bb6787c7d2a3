"""Broadcast pushes over the HTTP fallback: the live session behind one Server-Sent Events stream.

The fallback's POSTs are stateless, so nothing there can hear a broadcast. Each SSE stream
therefore holds a ``PushSession``: a ``LiveSession`` whose components are the page's, kept
current by the page's own requests:

1. The stream opens with an SSE event ``stream`` whose data is a random token.
2. The page sends that token in the ``X-Livepy-Stream`` header of its POSTs. After a POST has
   run, every component it ended with is (re)joined to the stream's session with its final
   signed snapshot, authorized for the stream's user. The JOINED frames go down the stream
   (their refs are the stream's own). SUBSCRIBE, UNSUBSCRIBE and WHISPER frames in such a POST
   run in the stream's session, so a page's JS channel subscriptions last as long as its stream.
3. A broadcast runs the listeners of those components here, and the pushed REPLY goes down the
   stream with the **full** html and the **whole** state (``[issued_at, [[[], state]], mac]``),
   so the browser can apply it whatever it holds. A component the stream holds already is
   brought up to date in place, so broadcast changes queued for it apply on top of the POST's
   outcome; and the broadcasts of the POST's own actions are published only after that (an
   ``HttpSession`` defers them), so the sender's page hears its own broadcast on top of its
   action, as over the socket. The browser re-applies a push that arrived while a request of
   the same component was out once that request's answer is in.

Pushes wait in a queue of ``Limits.max_pending_pushes``; over it the stream is closed as a
slow consumer (4008), and the browser's EventSource reconnects and announces its components
again. A push that lands while an action of the same component is out over HTTP can be
overwritten by that action's answer, which was computed from the older state; the next push
brings the component up to date again.
"""

from __future__ import annotations

import asyncio
import secrets
import weakref
from typing import TYPE_CHECKING, Any

from livepy.listeners import user_id_of
from livepy.protocol import constants as c
from livepy.protocol.frames import Join, JoinItem, encode
from livepy.session import Live, LiveSession

if TYPE_CHECKING:
    from livepy.app import LivePy
    from livepy.broadcasting import PendingBroadcast
    from livepy.transport.connections import Connection

__all__ = ["STREAM_HEADER", "HttpSession", "PushSession", "PushStreams", "streams_of"]

STREAM_HEADER = "x-livepy-stream"
# Page-channel frames (SUBSCRIBE, UNSUBSCRIBE, WHISPER) run in the stream's session.
PAGE_FRAME_TYPES = frozenset({c.FRAME_SUBSCRIBE, c.FRAME_UNSUBSCRIBE, c.FRAME_WHISPER})


class HttpSession(LiveSession):
    """The stateless session of one POST: its actions' broadcasts wait for ``flush()``."""

    def __init__(self, live: LivePy, *, client: str = "", user: Any = None) -> None:
        super().__init__(live, client=client, user=user)
        self._deferred: list[PendingBroadcast] = []

    async def _publish(self, pending: list[PendingBroadcast]) -> None:
        self._deferred += pending

    async def flush(self, stream: PushStream | None = None) -> None:
        """Publish what the POST's actions broadcast (after the stream adopted their outcome).

        With the page's stream, ``.to_others()`` excludes the stream's connection: that is
        the page, as far as broadcasts are concerned.
        """
        pending, self._deferred = self._deferred, []
        if stream is not None:
            self.connection_id = stream.session.connection_id
        await super()._publish(pending)


class PushSession(LiveSession):
    """A LiveSession whose pushes carry full html and whole state (see the module doc)."""

    async def refresh(self, cid: str, html: str, state: dict[str, Any], issued_at: int) -> bool:
        """Bring a component this stream holds to a POST's outcome, keeping its ref (and the
        broadcast changes queued for it). False when the stream does not hold it."""
        ref = self._refs_by_cid.get(cid)
        live = self.components.get(ref) if ref is not None else None
        if live is None or ref is None:
            return False
        async with self._lock:
            try:
                live.instance.load_state(state)
            except Exception:  # a state this class no longer takes: join it afresh instead
                return False
            live.html, live.state, live.issued_at = html, state, issued_at
            await self.listeners.sync(ref, live.instance)
        return True

    def _render_change(
        self, live: Live, html: str, *, shared: bool = False
    ) -> str | list[Any] | None:
        if html == live.html:
            return None
        live.html = html
        return html

    def _patch(
        self, live: Live, state: dict[str, Any], *, shared: bool = False
    ) -> list[Any] | None:
        patch = super()._patch(live, state, shared=shared)
        if patch is None:
            return None
        issued_at, _ops, mac = patch
        return [live.issued_at if issued_at is None else issued_at, [[[], state]], mac]


class PushStream:
    """One open SSE stream: its token, its session and its bounded queue of frames."""

    def __init__(self, live: LivePy, conn: Connection, user: Any) -> None:
        self.token = secrets.token_urlsafe(16)
        self.conn = conn
        self.user_id = user_id_of(user)
        self.session = PushSession(live, client=conn.client, user=user)
        self.queue: asyncio.Queue[bytes] = asyncio.Queue(live.limits.max_pending_pushes)
        self.session.push = self.put

    async def put(self, frame: bytes) -> bool:
        try:
            self.queue.put_nowait(frame)
        except asyncio.QueueFull:
            self.conn.request_close(c.WS_CLOSE_SLOW_CONSUMER, "slow consumer")
            return False
        return True

    async def adopt(self, session: LiveSession) -> None:
        """(Re)join the components a POST ended with, from their final signed snapshots."""
        snapshots = self.session.live.snapshots
        items = []
        for live in session.components.values():
            instance = live.instance
            if await self.session.refresh(instance.id, live.html, live.state, live.issued_at):
                continue
            name = type(instance).name
            mac = snapshots.mac(name, instance.id, live.issued_at, live.state)
            wire = [name, instance.id, live.issued_at, live.state, mac]
            items.append(JoinItem(instance.id, wire))
        if items:
            for frame in await self.session.receive(encode(Join(tuple(items)))):
                await self.put(frame)

    async def close(self) -> None:
        await self.session.close()


class PushStreams:
    """The open streams of one LivePy, by token."""

    def __init__(self) -> None:
        self._by_token: dict[str, PushStream] = {}

    def open(self, live: LivePy, conn: Connection, user: Any) -> PushStream:
        stream = PushStream(live, conn, user)
        self._by_token[stream.token] = stream
        return stream

    def find(self, token: str | None, user: Any) -> PushStream | None:
        """The stream named by a POST's header, if it is open and belongs to the same user."""
        stream = self._by_token.get(token or "")
        if stream is None or stream.user_id != user_id_of(user):
            return None
        return stream

    async def close(self, stream: PushStream) -> None:
        self._by_token.pop(stream.token, None)
        await stream.close()


_streams: weakref.WeakKeyDictionary[LivePy, PushStreams] = weakref.WeakKeyDictionary()


def streams_of(live: LivePy) -> PushStreams:
    streams = _streams.get(live)
    if streams is None:
        streams = _streams[live] = PushStreams()
    return streams
