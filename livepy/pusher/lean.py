"""A lean WebSocket protocol for uvicorn: Pusher sockets without the ASGI stack's cost per socket.

Served through ASGI, every idle pusher socket holds an ASGI task with its whole await chain
(uvicorn, Starlette's middleware and router, the endpoint), a scope, a receive queue and
Starlette's ``WebSocket``: about 26 KiB each, twice a bare ``websockets`` server. Given to
uvicorn as its WebSocket protocol (``ws=PusherWebSocketProtocol``, or ``--ws
livepy.pusher.lean:PusherWebSocketProtocol``; ``livepy serve`` does so), this class serves the
``/app/{key}`` upgrades itself: it finds the Pusher routes ``live.install(app)`` added to the
app, speaks WebSocket with the websockets sans-I/O ``ServerProtocol`` and is driven by
callbacks. An idle socket has no task and no timer, only this object and its
``PusherConnection`` (about 9 KiB); a task exists only while its frames are being handled.
Every other WebSocket (livepy's own ``/livepy/ws``, the app's) is handed to uvicorn's
``websockets-sansio`` protocol, extended with livepy's direct send (``livepy.transport.direct``).

It also sees what ASGI hides: WebSocket control-frame pings count as activity (and are
answered), and a socket whose unsent output exceeds ``MAX_WRITE_BUFFER`` (a client that
stopped reading) is closed with 4100, so pusher-js backs off and reconnects, instead of
growing without bound.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import time
import weakref
from collections import deque
from typing import TYPE_CHECKING, Any, cast

from websockets.frames import Frame, Opcode
from websockets.http11 import Request
from websockets.protocol import State
from websockets.server import ServerProtocol

from livepy.pusher import codes
from livepy.pusher.connection import PusherConnection

if TYPE_CHECKING:
    from livepy.pusher.server import PusherServer

__all__ = ["MAX_WRITE_BUFFER", "PusherWebSocketProtocol", "pusher_endpoints"]

logger = logging.getLogger("livepy.pusher")

MAX_WRITE_BUFFER = 1 << 20  # unsent bytes per socket before it counts as a stalled client
CLOSE_TIMEOUT = 5.0  # after our close frame, how long the client has to answer it

# uvicorn config -> the Pusher endpoints of its app: (path pattern, server), found once.
_endpoints: weakref.WeakKeyDictionary[Any, list[tuple[re.Pattern[str], PusherServer]]] = (
    weakref.WeakKeyDictionary()
)


def pusher_endpoints(app: Any) -> list[tuple[re.Pattern[str], PusherServer]]:
    """The ``/app/{key}`` routes ``live.install`` added to ``app`` (under any middleware)."""
    from livepy.pusher.server import PusherServer  # here: server.py imports this module

    for _ in range(16):  # unwrap uvicorn's and the app's middleware down to the router
        if app is None or hasattr(app, "routes"):
            break
        app = getattr(app, "app", None)
    found = []
    for route in getattr(app, "routes", None) or ():
        owner = getattr(getattr(route, "endpoint", None), "__self__", None)
        if isinstance(owner, PusherServer):
            found.append((route.path_regex, owner))
    return found


class PusherWebSocketProtocol(asyncio.Protocol):
    __slots__ = (
        "_closing",
        "_fragments",
        "_inbox",
        "_inner",
        "_uvicorn",
        "_worker",
        "conn",
        "server",
        "transport",
        "ws",
    )

    def __init__(self, config: Any, server_state: Any, app_state: Any, **_: Any) -> None:
        self._uvicorn: tuple[Any, Any, Any] | None = (config, server_state, app_state)
        self._inner: asyncio.Protocol | None = None  # uvicorn's protocol, for other paths
        self.transport: asyncio.Transport | None = None
        self.ws: ServerProtocol | None = None
        self.conn: PusherConnection | None = None
        self.server: PusherServer | None = None
        self._fragments: list[bytes] | None = None
        self._inbox: deque[tuple[str, str]] = deque()
        self._worker: asyncio.Task[None] | None = None
        self._closing = False

    # -- asyncio.Protocol ----------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        if self._inner is not None:
            self._inner.data_received(data)
            return
        if self.ws is None:  # the upgrade request, whole: uvicorn hands it over re-serialized
            self.server = self._server_for(data)
            if self.server is None:
                self._delegate(data)
                return
            # Frames a little over max_message_size get the protocol's 4200 error; far over it,
            # websockets closes with 1009 before buffering them.
            largest = max(app.max_message_size for app in self.server.apps.apps)
            config = self._uvicorn[0] if self._uvicorn else None
            max_size = min(getattr(config, "ws_max_size", 1 << 24), 4 * largest)
            self.ws = ServerProtocol(max_size=max_size, logger=logger)
        self.ws.receive_data(data)
        for event in self.ws.events_received():
            if isinstance(event, Request):
                self._handshake(event)
            elif isinstance(event, Frame):
                self._frame(event)
        self._flush()
        if self.ws.parser_exc is not None or self.ws.state is State.CLOSED:
            self._close_transport()  # bad frames, or the closing handshake is done

    def eof_received(self) -> bool | None:
        if self._inner is not None:
            return self._inner.eof_received()
        if self.ws is not None:
            self.ws.receive_eof()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        if self._inner is not None:
            self._inner.connection_lost(exc)
            return
        self._closing = True
        if self._uvicorn is not None:
            self._uvicorn[1].connections.discard(self)
        if self.conn is not None:
            self._enqueue("gone", "")

    def pause_writing(self) -> None:
        if self._inner is not None:
            self._inner.pause_writing()

    def resume_writing(self) -> None:
        if self._inner is not None:
            self._inner.resume_writing()

    def shutdown(self) -> None:
        """uvicorn's graceful shutdown: 1012 (service restart), pusher-js reconnects."""
        if self._inner is not None:
            self._inner.shutdown()  # type: ignore[attr-defined]
            return
        self._send_close(1012, "Server restarting")
        self._close_transport()

    # -- routing -------------------------------------------------------------------------

    def _server_for(self, request: bytes) -> PusherServer | None:
        assert self._uvicorn is not None
        config = self._uvicorn[0]
        endpoints = _endpoints.get(config)
        if endpoints is None:
            endpoints = _endpoints[config] = pusher_endpoints(config.loaded_app)
        parts = request.split(b"\r\n", 1)[0].decode("latin-1").split(" ")
        path = parts[1].split("?", 1)[0] if len(parts) == 3 else ""
        for pattern, server in endpoints:
            if pattern.match(path):
                return server
        return None

    def _delegate(self, data: bytes) -> None:
        """Not a Pusher path: uvicorn's own protocol takes the socket from here on."""
        assert self._uvicorn is not None and self.transport is not None
        # Imported here: it imports uvicorn's websockets-sansio protocol.
        from livepy.transport.direct import DirectSendProtocol

        config, server_state, app_state = self._uvicorn
        inner = DirectSendProtocol(config=config, server_state=server_state, app_state=app_state)
        self._inner, self._uvicorn = inner, None
        inner.connection_made(self.transport)
        inner.data_received(data)

    # -- the Pusher socket ---------------------------------------------------------------

    def _handshake(self, request: Request) -> None:
        assert self.ws is not None and self._uvicorn is not None
        response = self.ws.accept(request)
        self.ws.send_response(response)
        if response.status_code != 101:
            self._flush()
            self._close_transport()
            return
        self._uvicorn[1].connections.add(self)  # uvicorn's shutdown reaches us
        server = self._server()
        key = request.path.split("?", 1)[0].rsplit("/", 1)[-1]
        app = server.apps.by_key.get(key)
        if app is None:
            self._refuse(codes.APP_NOT_FOUND, "Application does not exist")
            return
        if not app.origin_allowed(request.headers.get("Origin")):
            self._refuse(codes.UNAUTHORIZED, "Origin not allowed")
            return
        self.conn = PusherConnection(app, self)
        self._enqueue("open", "")

    def _refuse(self, code: int, message: str) -> None:
        payload = json.dumps({"code": code, "message": message})
        self._write(json.dumps({"event": "pusher:error", "data": payload}))
        self._send_close(code, message)

    def _frame(self, frame: Frame) -> None:
        conn = self.conn
        if conn is None:
            return
        conn.last_received = time.monotonic()  # any frame, control frames included
        conn.pinged = False
        opcode = frame.opcode
        if opcode in (Opcode.TEXT, Opcode.BINARY):
            self._fragments = [bytes(frame.data)]
        elif opcode is Opcode.CONT and self._fragments is not None:
            self._fragments.append(bytes(frame.data))
        else:  # PING (answered by ServerProtocol), PONG, CLOSE
            return
        if frame.fin:
            text = b"".join(self._fragments).decode("utf-8", "replace")
            self._fragments = None
            self._enqueue("text", text)

    def _enqueue(self, kind: str, text: str) -> None:
        """Frames are handled in order by one short-lived task, created only when needed."""
        self._inbox.append((kind, text))
        if self._worker is None:
            self._worker = asyncio.get_running_loop().create_task(self._work())

    async def _work(self) -> None:
        server, conn = self._server(), self.conn
        assert conn is not None
        try:
            while self._inbox:
                kind, text = self._inbox.popleft()
                try:
                    if kind == "text" and not conn.closed:
                        await server.receive(conn, text)
                    elif kind == "open":
                        if not await server.open(conn):
                            self._refuse(codes.OVER_QUOTA, "Application is over connection quota")
                    elif kind == "gone":
                        await server.gone(conn)  # leave channels, uncount
                        self._inbox.clear()
                except Exception:
                    logger.exception("event=pusher_frame_failed socket_id=%s", conn.socket_id)
        finally:
            self._worker = None

    def _server(self) -> PusherServer:
        assert self.server is not None
        return self.server

    # -- the wire (what PusherConnection calls) ------------------------------------------

    async def send_text(self, data: str) -> None:
        self._write(data)

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        self._send_close(code, reason or "")

    def _write(self, text: str) -> None:
        if self._closing or self.ws is None or self.transport is None:
            return
        self.ws.send_text(text.encode())
        self._flush()
        if self.transport.get_write_buffer_size() > MAX_WRITE_BUFFER:
            logger.warning("event=pusher_slow_client action=close code=%d", codes.OVER_CAPACITY)
            self._send_close(codes.OVER_CAPACITY, "Client too slow")

    def _send_close(self, code: int, reason: str) -> None:
        if self._closing or self.ws is None or self.transport is None:
            return
        self._closing = True
        with contextlib.suppress(Exception):  # the state machine may already be closing
            self.ws.send_close(code, reason)
        self._flush()
        if self.ws.state is State.CLOSED:  # the client had closed first: we only answered
            self._close_transport()
            return
        # The client answers our close frame; if it does not, drop the TCP connection anyway.
        asyncio.get_running_loop().call_later(CLOSE_TIMEOUT, self._abort)

    def _flush(self) -> None:
        if self.ws is None or self.transport is None or self.transport.is_closing():
            return
        output = self.ws.data_to_send()
        if output:
            self.transport.write(b"".join(output))
            if output[-1] == b"":  # end of stream: the server closes TCP first (RFC 6455 7.1.1)
                self._close_transport()

    def _abort(self) -> None:
        """Drop the connection and whatever it still has unsent (close() would wait for it)."""
        if self.transport is not None:
            self.transport.abort()

    def _close_transport(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()
