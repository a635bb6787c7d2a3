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
   so the browser can apply it whatever it holds: a POST answer may arrive before or after it.

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
    from livepy.transport.connections import Connection

__all__ = ["STREAM_HEADER", "PushSession", "PushStreams", "streams_of"]

STREAM_HEADER = "x-livepy-stream"
# Page-channel frames (SUBSCRIBE, UNSUBSCRIBE, WHISPER) run in the stream's session.
PAGE_FRAME_TYPES = frozenset({c.FRAME_SUBSCRIBE, c.FRAME_UNSUBSCRIBE, c.FRAME_WHISPER})


class PushSession(LiveSession):
    """A LiveSession whose pushes carry full html and whole state (see the module doc)."""

    def _render_change(self, live: Live, html: str) -> str | list[Any] | None:
        if html == live.html:
            return None
        live.html = html
        return html

    def _patch(self, live: Live, state: dict[str, Any]) -> list[Any] | None:
        patch = super()._patch(live, state)
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
