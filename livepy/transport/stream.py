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
   action, as over the socket.
4. No broadcast is lost to an action in flight. The stream remembers, per component, the last
   ``TRAIL_LIMIT`` broadcast changes it applied and the state each started from. A POST's
   JOIN tells which state the page started from: the changes the stream applied since then
   (which the action never saw) run again on top of the POST's outcome, and one push carries
   the result. Every pushed REPLY is numbered (its seq, counting up per stream); the POST's
   answer names the last number given before its outcome was adopted (header
   ``X-Livepy-Pushed``), and the browser drops the pushes of that component up to it: they
   were computed from the older state, and their effect is in the push that follows.

Pushes wait in a queue of ``Limits.max_pending_pushes``; over it the stream is closed as a
slow consumer (4008), and the browser's EventSource reconnects and announces its components
again.
"""

from __future__ import annotations

import asyncio
import secrets
import weakref
from collections import deque
from typing import TYPE_CHECKING, Any

from livepy.held import Live
from livepy.listeners import user_id_of
from livepy.protocol import constants as c
from livepy.protocol.frames import Call, Join, JoinItem, encode, encode_reply
from livepy.session import DEFERRED, Change, LiveSession

if TYPE_CHECKING:
    from livepy.app import LivePy
    from livepy.broadcasting import PendingBroadcast
    from livepy.transport.connections import Connection

__all__ = [
    "PUSHED_HEADER",
    "STREAM_HEADER",
    "TRAIL_LIMIT",
    "HttpSession",
    "PushSession",
    "PushStreams",
    "streams_of",
]

STREAM_HEADER = "x-livepy-stream"
# On a POST's answer: the number of the last push its outcome supersedes (see the module doc).
PUSHED_HEADER = "x-livepy-pushed"
# Broadcast changes remembered per component, to replay on top of an action that missed them.
TRAIL_LIMIT = 32
# Page-channel frames (SUBSCRIBE, UNSUBSCRIBE, WHISPER) run in the stream's session.
PAGE_FRAME_TYPES = frozenset({c.FRAME_SUBSCRIBE, c.FRAME_UNSUBSCRIBE, c.FRAME_WHISPER})


class HttpSession(LiveSession):
    """The stateless session of one POST: its actions' broadcasts wait for ``flush()``."""

    def __init__(self, live: LivePy, *, client: str = "", user: Any = None) -> None:
        super().__init__(live, client=client, user=user)
        self._deferred: list[PendingBroadcast] = []
        # The state each component was joined with: where the page's actions started from.
        self.bases: dict[str, dict[str, Any]] = {}

    def _join_one(self, cid: str, wire: list[Any]) -> tuple[Live, bool]:
        live, set_up = super()._join_one(cid, wire)
        self.bases[cid] = live.state
        return live, set_up

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


async def _unchanged(instance: Any) -> None:
    """A change that changes nothing: renders the state replayed changes left."""


class PushSession(LiveSession):
    """A LiveSession whose pushes carry full html and whole state (see the module doc)."""

    def __init__(self, live: LivePy, *, client: str = "", user: Any = None) -> None:
        super().__init__(live, client=client, user=user)
        self.pushes = 0  # the number of the last pushed REPLY (its seq)
        # Per component: the broadcast changes applied here, each with the state it started from.
        self._trails: dict[str, deque[tuple[dict[str, Any], Change]]] = {}

    async def _change(self, live: Live, change: Change | Call, seq: int | None) -> bytes | None:
        if change is _unchanged or isinstance(change, Call):  # (no CALL runs on a stream)
            return await super()._change(live, change, seq)
        live.synced = False  # (the dehydrate hook runs on it first)
        before = live.instance.snapshot_state()
        error = await super()._change(live, change, seq)
        if error is None or error is DEFERRED:
            trail = self._trails.get(live.instance.id)
            if trail is None:
                trail = self._trails[live.instance.id] = deque(maxlen=TRAIL_LIMIT)
            trail.append((before, change))
        return error

    def _reply(self, live: Live, *, ack: bool = True) -> bytes | None:
        if not ack:  # a push: numbered, so that the browser can tell a stale one
            self.pushes += 1
            live.seq = self.pushes
        return super()._reply(live, ack=ack)

    def forget(self, cid: str) -> None:
        """A component joined afresh: the changes remembered for the old one do not apply."""
        self._trails.pop(cid, None)

    async def refresh(
        self, outcomes: list[tuple[Live, dict[str, Any] | None]]
    ) -> tuple[int, list[Live], list[bytes]]:
        """Bring the components this stream holds to a POST's outcomes, keeping their refs.

        ``outcomes`` pairs each component the POST ended with and the state it started from.
        The broadcast changes applied here since that state run again on top of the outcome.
        Returns the number of the last push made before (the pushes the outcome supersedes),
        the components the stream does not hold (to join), and the pushes of the replays.
        """
        missing: list[Live] = []
        frames: list[bytes] = []
        async with self._lock:  # no push is numbered between the mark and the replays
            mark = self.pushes
            for outcome, base in outcomes:
                if not await self._refresh_one(outcome, base, frames):
                    missing.append(outcome)
        return mark, missing, frames

    async def _refresh_one(
        self, outcome: Live, base: dict[str, Any] | None, frames: list[bytes]
    ) -> bool:
        cid = outcome.instance.id
        ref = self._refs_by_cid.get(cid)
        live = self.components.get(ref) if ref is not None else None
        if live is None or ref is None:
            return False
        missed = self._missed(live, base)
        try:
            live.instance.load_state(outcome.state)
        except Exception:  # a state this class no longer takes: join it afresh instead
            return False
        live.html, live.state, live.issued_at = outcome.html, outcome.state, outcome.issued_at
        live.synced = False
        self._trails.pop(cid, None)  # a new starting point: the outcome
        if missed:
            for change in missed:
                error = await self._change(live, change, None)
                if error is not None and error is not DEFERRED:
                    frames.append(error)
            live.instance.pending_broadcasts = []  # published when they first ran
            error = await self._change(live, _unchanged, None)
            frame = error if error is not None else self._pushed(live, self._loop_time())
            if frame:
                frames.append(frame)
        await self.listeners.sync(ref, live.instance)
        return True

    def _missed(self, live: Live, base: dict[str, Any] | None) -> list[Change]:
        """The changes applied here since ``base``, the state a POST started from."""
        trail = self._trails.get(live.instance.id)
        if base is None or not trail or base == live.instance.snapshot_state():
            return []
        entries = list(trail)
        for index in range(len(entries) - 1, -1, -1):
            if entries[index][0] == base:
                return [change for _, change in entries[index:]]
        return []  # older than the trail remembers: the outcome stands alone

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

    def _push_frame(self, live: Live) -> bytes | None:
        render = self._render_change(live, live.next_html)  # the whole html and state
        patch = self._patch(live, live.next_state)
        if render is None and patch is None:
            return None
        return encode_reply(live.ref, live.seq, render, patch)


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

    async def adopt(self, session: HttpSession) -> int:
        """(Re)join the components a POST ended with, from their final signed snapshots;
        return the number of the last push their outcomes supersede."""
        bases = session.bases
        outcomes = [(live, bases.get(live.instance.id)) for live in session.components.values()]
        mark, missing, frames = await self.session.refresh(outcomes)
        for frame in frames:
            await self.put(frame)
        snapshots = self.session.live.snapshots
        items = []
        for live in missing:
            instance = live.instance
            self.session.forget(instance.id)
            name = type(instance).name
            mac = snapshots.mac(name, instance.id, live.issued_at, live.state)
            wire = [name, instance.id, live.issued_at, live.state, mac]
            items.append(JoinItem(instance.id, wire))
        if items:
            for frame in await self.session.receive(encode(Join(tuple(items)))):
                await self.put(frame)
        return mark

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
