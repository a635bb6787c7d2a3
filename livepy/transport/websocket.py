"""The WebSocket endpoint: a thin pump between a socket and a LiveSession.

Around the pump: the Origin check (4403), connection limits (4429) and draining (1012), server
heartbeats (a PING every ``heartbeat_interval``; 4408 after ``heartbeat_timeout`` of silence),
structured logs and metrics.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine, Mapping
from typing import TYPE_CHECKING, Any, cast

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from livepy.protocol import constants as c
from livepy.protocol.frames import ErrorFrame, Ping, encode
from livepy.session import LiveSession
from livepy.transport.common import (
    DIRECT_SEND,
    account_sent,
    client_address,
    log_refusal,
    needs_accounting,
)
from livepy.transport.connections import Connection
from livepy.transport.deadline import finish_within
from livepy.transport.logfmt import log_event
from livepy.transport.origin import origin_allowed

if TYPE_CHECKING:
    from livepy.app import LivePy
    from livepy.transport.direct import DirectSend

__all__ = ["websocket_endpoint"]

logger = logging.getLogger("livepy.transport")

PING_FRAME = encode(Ping())
TRANSPORT = "ws"
# A watchdog that wakes this much later than it asked (its loop was busy) does not count the
# silence up to then against the client.
LOOP_LAG_GRACE = 1.0


def direct_send_of(scope: Mapping[str, Any]) -> DirectSend | None:
    """The scope's ``DirectSend``, when uvicorn runs livepy's ``DirectSendProtocol``."""
    found = (scope.get("extensions") or {}).get(DIRECT_SEND)
    return found.get("send") if isinstance(found, dict) else None


class _Pump:
    """One accepted socket: serialized sends, the heartbeat watchdog, and a single close."""

    def __init__(self, live: LivePy, websocket: WebSocket, conn: Connection) -> None:
        self.live = live
        self.websocket = websocket
        self.conn = conn
        self.lock = asyncio.Lock()
        self.closed = False
        # Served by livepy's DirectSendProtocol: frames are queued without awaiting and leave
        # in one write per pass of the loop; the send limit becomes a bound on unsent bytes.
        self.direct = direct_send_of(websocket.scope)
        if self.direct is not None:
            self.direct.on_stall(self.stalled, live.send_timeout)
        # The ASGI send callable itself: once accepted, Starlette's send() only re-checks the
        # state per message (two more coroutines per frame); close() still goes through it.
        # Behind Starlette's routing it is always an ``async def`` (its exception wrapper's),
        # so it returns a coroutine, which finish_within needs.
        self.asgi_send = cast(
            "Callable[[dict[str, Any]], Coroutine[Any, Any, None]]", websocket._send
        )

    def send_now(self, data: bytes) -> bool:
        """``send`` through the direct send, which never waits (called per pushed frame)."""
        assert self.direct is not None
        if self.closed or not self.direct.write(data):
            return False
        self.conn.sent(len(data))
        if needs_accounting(self.live, data):
            account_sent(self.live, TRANSPORT, data, self.conn.client)
        return True

    async def send(self, data: bytes) -> bool:
        if self.direct is not None:
            return self.send_now(data)
        async with self.lock:
            if self.closed:
                return False
            try:
                # No task per send (wait_for), no timer unless the send waits (asyncio.timeout).
                message = {"type": "websocket.send", "bytes": data}
                await finish_within(self.asgi_send(message), self.live.send_timeout)
            except TimeoutError:
                # The client stopped reading: drop it rather than hold its frames in memory.
                # It reconnects, rejoins with its snapshots and catches up from the history.
                self.closed = True
                self.conn.close_code = c.WS_CLOSE_SLOW_CONSUMER
                self.conn.close_reason = "slow consumer: a send did not finish in time"
                log_event(logger, logging.WARNING, "slow_consumer", client=self.conn.client)
                with contextlib.suppress(Exception):
                    await self.websocket.close(c.WS_CLOSE_SLOW_CONSUMER, "slow consumer")
                return False
            except OSError:  # what Starlette's send does when the socket is gone
                self.websocket.application_state = WebSocketState.DISCONNECTED
                raise WebSocketDisconnect(code=1006) from None
        self.conn.sent(len(data))
        account_sent(self.live, TRANSPORT, data, self.conn.client)
        return True

    async def close(self, code: int, reason: str) -> None:
        async with self.lock:
            if self.closed:
                return
            self.closed = True
            if self.conn.close_code is None:
                self.conn.close_code, self.conn.close_reason = code, reason
            if self.direct is not None:  # never waits on a client that stopped reading
                self.direct.close(code, reason)
                return
            # The peer may be gone already, or the server may be closing the socket itself.
            with contextlib.suppress(OSError, RuntimeError, WebSocketDisconnect):
                await self.websocket.close(code, reason)

    def flush(self) -> None:
        if self.direct is not None:
            self.direct.flush()

    def stalled(self) -> None:
        """DirectSend's report: too much unsent for too long. Close now, as a failed send does."""
        if self.closed:
            return
        self.closed = True
        self.conn.close_code = c.WS_CLOSE_SLOW_CONSUMER
        self.conn.close_reason = "slow consumer: unsent frames piled up"
        log_event(logger, logging.WARNING, "slow_consumer", client=self.conn.client)
        assert self.direct is not None
        self.direct.close(c.WS_CLOSE_SLOW_CONSUMER, "slow consumer")

    async def watchdog(self) -> None:
        """Send PINGs; close on a close request (draining) or after too long a silence."""
        live, conn = self.live, self.conn
        interval, timeout = live.heartbeat_interval, live.heartbeat_timeout
        next_ping = time.monotonic() + interval
        forgive_until = 0.0  # silence is not judged before then (after this process stalled)
        while True:
            now = time.monotonic()
            wake = min(next_ping, max(forgive_until, now + timeout - conn.idle_for()))
            # asyncio.timeout, not wait_for: no second task held per idle socket (memory, and a
            # task created per heartbeat on every connection).
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(0.0, wake - now)):
                    await conn.close_requested.wait()
            if conn.close_requested.is_set():
                await self.close(conn.close_code or c.WS_CLOSE_SERVICE_RESTART, conn.close_reason)
                return
            now = time.monotonic()
            if now - wake > LOOP_LAG_GRACE:
                # This process was too busy to wake on time (a long burst of pushes): it sent
                # no PINGs meanwhile, and PONGs may wait unread. The silence is its own, not the
                # client's: ping now and give the client a whole timeout to answer.
                forgive_until, next_ping = now + timeout, now
            silent = conn.idle_for()  # a slow action is not silence: PONGs wait unread
            if silent >= timeout and now >= forgive_until:
                log_event(
                    logger, logging.INFO, "heartbeat_timeout", transport=TRANSPORT,
                    client=conn.client, conn=conn.id, silent_s=round(silent, 3),
                )  # fmt: skip
                await self.close(c.WS_CLOSE_HEARTBEAT_TIMEOUT, "heartbeat timeout")
                return
            if now >= next_ping:
                next_ping = now + interval
                if not await self.send(PING_FRAME):
                    return


async def websocket_endpoint(live: LivePy, websocket: WebSocket) -> None:
    ip, client = client_address(websocket)
    if not live.websocket:
        log_event(
            logger, logging.INFO, "refused", transport=TRANSPORT, client=client,
            reason="websocket_disabled", code=403,
        )  # fmt: skip
        await websocket.close()  # before accept: the upgrade is refused with HTTP 403
        return
    origin = websocket.headers.get("origin")
    await websocket.accept()
    if not origin_allowed(origin, websocket.headers.get("host"), live.allowed_origins):
        log_event(
            logger, logging.WARNING, "refused", transport=TRANSPORT, client=client,
            reason="origin", origin=origin, code=c.WS_CLOSE_ORIGIN_REFUSED,
        )  # fmt: skip
        await websocket.close(c.WS_CLOSE_ORIGIN_REFUSED, "origin not allowed")
        return
    refusal = live.connections.refusal(ip)
    if refusal is not None:
        log_refusal(live, TRANSPORT, client, refusal)
        await websocket.close(refusal.code, refusal.message)
        return
    conn = Connection(TRANSPORT, ip, client)
    live.connections.add(conn)
    live.metrics.connection_opened(TRANSPORT)
    log_event(logger, logging.INFO, "connect", transport=TRANSPORT, client=client, conn=conn.id)
    session = LiveSession(live, client=client, user=await live.resolve_user(websocket))
    session.scope = websocket.scope  # lp-navigate renders pages with the handshake's cookies
    live.sessions.add(session)
    pump = _Pump(live, websocket, conn)
    # Through the direct send a push queues its frame without a coroutine
    session.push = pump.send if pump.direct is None else pump.send_now

    async def overflowed() -> None:
        await pump.close(c.WS_CLOSE_SLOW_CONSUMER, "slow consumer: too many pushes waiting")

    session.on_overflow = overflowed
    watchdog = asyncio.create_task(pump.watchdog())
    peer_code: int | None = None
    timed = live.metrics.enabled  # no clock reads per frame when nobody collects them
    # Accepted: the ASGI receive callable itself (Starlette's receive() re-checks the state and
    # the message type on every message; the server sends only these two types from now on).
    receive = websocket._receive
    try:
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                websocket.client_state = WebSocketState.DISCONNECTED
                peer_code = message.get("code")
                break
            data = message.get("bytes")
            size = len(data) if data is not None else len((message.get("text") or "").encode())
            conn.received(size)
            live.metrics.frame_received(TRANSPORT, size)
            if data is None:
                frame = ErrorFrame(c.ERR_BAD_FRAME, "frames must be binary msgpack, not text")
                await pump.send(encode(frame))
                continue
            started = time.perf_counter() if timed else 0.0
            conn.busy = True
            try:
                replies = await session.receive(data)
            finally:
                conn.busy = False
                conn.last_received = time.monotonic()
            if timed:
                live.metrics.observe_frame(TRANSPORT, time.perf_counter() - started)
            for reply in replies:
                if not await pump.send(reply):
                    break
            pump.flush()
            if pump.closed:
                break
    except (WebSocketDisconnect, OSError):
        pass
    finally:
        watchdog.cancel()
        try:
            await watchdog
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise
        live.sessions.discard(session)
        await session.close()
        live.connections.discard(conn)
        code = conn.close_code if conn.close_code is not None else peer_code
        live.metrics.connection_closed(TRANSPORT, code)
        log_event(
            logger,
            logging.INFO,
            "disconnect",
            transport=TRANSPORT,
            client=client,
            conn=conn.id,
            code=code,
            by="server" if conn.close_code is not None else "client",
            duration_s=round(conn.duration, 3),
            frames_in=conn.frames_in,
            frames_out=conn.frames_out,
            bytes_in=conn.bytes_in,
            bytes_out=conn.bytes_out,
        )
