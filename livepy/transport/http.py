"""The HTTP fallback, for networks where WebSockets are blocked, and the metrics endpoint.

``POST {path}/update``
    Body: a msgpack array of client frames, normally a JOIN of the components involved followed
    by their CALL frames. They run through a fresh, stateless ``LiveSession`` (rebuilt from the
    signed snapshots in the JOIN), and the answer is a msgpack array of the server frames that
    session produced, in order: the JOINED frames (refs 1..n in JOIN order), then the REPLY or
    ERROR frames. Frame-level problems come back as ERROR frames with status 200; only problems
    with the request itself get another status, with a ``text/plain`` body ``"<code>: <message>"``
    and the code in the ``X-Livepy-Error`` header:

    - 403 ``header_missing``: no ``X-Livepy: 1`` header. A page on another site cannot add that
      header without a CORS preflight, which livepy never answers, so this is the CSRF check.
    - 403 ``origin_refused``: the ``Origin`` header names a site that may not use livepy here
      (the same check, and the same ``allowed_origins`` setting, as the WebSocket's 4403).
    - 413 ``frame_too_large``: the body is longer than ``Limits.max_http_body_bytes``.
    - 400 ``bad_frame``: the body is not one msgpack array; 400 ``too_many_calls``: it holds more
      than ``HTTP_MAX_FRAMES`` frames.

``GET {path}/events``
    A Server-Sent Events stream for server pushes. It opens with an event named ``stream`` whose
    data is the stream's token; then each event's ``data`` is the standard base64 of one
    msgpack server frame: the pushes of a broadcast (see ``livepy/transport/stream.py``; POSTs
    that carry the token in ``X-Livepy-Stream`` keep the stream's components current, and
    their answers carry ``X-Livepy-Pushed``, the number of the last push they supersede), and
    a PING after each ``heartbeat_interval`` seconds without anything to send.
    It counts against the connection limits (429 when over; 503 while the server drains), and
    ends cleanly, with a ``retry:`` hint, when the server drains.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import inspect
import logging
import random
import struct
import time
from typing import TYPE_CHECKING, Any

import msgpack
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import Message, Receive, Scope, Send

from livepy.protocol import constants as c
from livepy.protocol.frames import Ping, encode
from livepy.transport.common import account_sent, client_address, log_refusal
from livepy.transport.connections import Connection, Refusal
from livepy.transport.logfmt import log_event
from livepy.transport.origin import (
    CSRF_HEADER,
    HEADER_MISSING,
    ORIGIN_REFUSED,
    browser_refusal,
    origin_allowed,
)
from livepy.transport.stream import (
    PAGE_FRAME_TYPES,
    PUSHED_HEADER,
    STREAM_HEADER,
    HttpSession,
    PushStream,
    streams_of,
)

if TYPE_CHECKING:
    from livepy.app import LivePy

__all__ = [
    "CSRF_HEADER",
    "HTTP_ERR_HEADER_MISSING",
    "HTTP_ERR_ORIGIN_REFUSED",
    "HTTP_MAX_FRAMES",
    "MSGPACK",
    "EventStream",
    "events_endpoint",
    "metrics_endpoint",
    "update_endpoint",
]

logger = logging.getLogger("livepy.transport")

MSGPACK = "application/msgpack"
HTTP_MAX_FRAMES = 64
HTTP_ERR_HEADER_MISSING = HEADER_MISSING
HTTP_ERR_ORIGIN_REFUSED = ORIGIN_REFUSED
SSE_PING = b"data: " + base64.b64encode(encode(Ping())) + b"\n\n"


def _refuse(status: int, code: str, message: str, **headers: str) -> Response:
    return PlainTextResponse(
        f"{code}: {message}", status_code=status, headers={"X-Livepy-Error": code, **headers}
    )


def _array_header(count: int) -> bytes:
    if count < 16:
        return bytes([0x90 | count])
    if count < 0x10000:
        return b"\xdc" + struct.pack(">H", count)
    return b"\xdd" + struct.pack(">I", count)


def _split_frames(body: bytes) -> list[bytes] | Response:
    """The raw bytes of each element of the msgpack array ``body`` (no re-encoding)."""
    unpacker = msgpack.Unpacker(raw=False, max_buffer_size=max(len(body), 1))
    unpacker.feed(body)
    try:
        count = unpacker.read_array_header()
        if count > HTTP_MAX_FRAMES:
            return _refuse(
                400,
                c.ERR_TOO_MANY_CALLS,
                f"{count} frames in one request; the limit is {HTTP_MAX_FRAMES}",
            )
        frames = []
        for _ in range(count):
            start = unpacker.tell()
            unpacker.skip()
            frames.append(body[start : unpacker.tell()])
        if unpacker.tell() != len(body):
            raise ValueError("trailing bytes after the array")
    except Exception as exc:  # msgpack raises several unrelated types for garbage
        return _refuse(400, c.ERR_BAD_FRAME, f"the body is not one msgpack array of frames ({exc})")
    return frames


async def _read_body(request: Request, limit: int) -> bytes | None:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


async def update_endpoint(live: LivePy, request: Request) -> Response:
    """``POST {path}/update``: run a batch of client frames through a stateless session."""
    _ip, client = client_address(request)
    response = await _update(live, request, client)
    live.metrics.http_request(response.status_code)
    return response


async def _update(live: LivePy, request: Request, client: str) -> Response:
    origin = request.headers.get("origin")
    refusal = browser_refusal(request.headers, live.allowed_origins)
    if refusal is not None:
        code, message = refusal
        log_event(
            logger, logging.WARNING, "refused", transport="http", client=client,
            reason=code, origin=origin, code=403,
        )  # fmt: skip
        return _refuse(403, code, message)
    limit = live.limits.max_http_body_bytes
    body = await _read_body(request, limit)
    if body is None:
        return _refuse(413, c.ERR_FRAME_TOO_LARGE, f"the body exceeds the limit of {limit} bytes")
    frames = _split_frames(body)
    if isinstance(frames, Response):
        return frames
    user = await live.resolve_user(request)
    session = HttpSession(live, client=client, user=user)
    # The page's SSE stream, which hears broadcasts for it (livepy/transport/stream.py).
    stream = streams_of(live).find(request.headers.get(STREAM_HEADER), user)
    out: list[bytes] = []
    headers = {"Cache-Control": "no-store"}
    try:
        for frame in frames:
            live.metrics.frame_received("http", len(frame))
            started = time.perf_counter()
            page_frame = len(frame) > 1 and frame[1] in PAGE_FRAME_TYPES
            target = stream.session if stream is not None and page_frame else session
            replies = await target.receive(frame)
            live.metrics.observe_frame("http", time.perf_counter() - started)
            for reply in replies:
                account_sent(live, "http", reply, client)
            out += replies
        if stream is not None:
            headers[PUSHED_HEADER] = str(await stream.adopt(session))
        await session.flush(stream)  # the actions' broadcasts, once the stream has their outcome
    finally:
        await session.close()  # a stateless session must not leave listeners behind
    log_event(
        logger, logging.DEBUG, "http_update", client=client, frames_in=len(frames),
        frames_out=len(out), bytes_in=len(body),
    )  # fmt: skip
    return Response(
        _array_header(len(out)) + b"".join(out),
        media_type=MSGPACK,
        headers=headers,
    )


class EventStream(Response):
    """An SSE stream bound to one registered ``Connection``."""

    def __init__(self, live: LivePy, conn: Connection, user: Any = None) -> None:
        # Not Response.__init__: it would declare a Content-Length for an empty body.
        self.status_code = 200
        self.media_type = "text/event-stream"
        self.background = None
        self.init_headers({"Cache-Control": "no-store, no-transform", "X-Accel-Buffering": "no"})
        self.live = live
        self.conn = conn
        self.user = user
        self.stream: PushStream | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        live, conn = self.live, self.conn
        refusal = live.connections.refusal(conn.ip)  # re-checked: time passed since the request
        if refusal is not None:
            log_refusal(live, "sse", conn.client, refusal)
            await _refusal_response(refusal)(scope, receive, send)
            return
        live.connections.add(conn)
        live.metrics.connection_opened("sse")
        log_event(
            logger, logging.INFO, "connect", transport="sse", client=conn.client, conn=conn.id
        )
        peer_gone = asyncio.create_task(self._wait_disconnect(receive))
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            # A comment first, so that proxies and the browser see the stream start at once.
            await self._write(send, b": livepy\n\n", count=False)
            self.stream = streams_of(live).open(live, conn, self.user)
            await self._write(send, f"event: stream\ndata: {self.stream.token}\n\n".encode())
            await self._pump(send)
        except OSError:  # the client went away mid-write
            conn.request_close(1001, "client gone")
        finally:
            peer_gone.cancel()
            if self.stream is not None:
                await streams_of(live).close(self.stream)
            live.connections.discard(conn)
            live.metrics.connection_closed("sse", conn.close_code)
            log_event(
                logger,
                logging.INFO,
                "disconnect",
                transport="sse",
                client=conn.client,
                conn=conn.id,
                code=conn.close_code,
                by="client" if conn.close_code in (None, 1001) else "server",
                duration_s=round(conn.duration, 3),
                frames_out=conn.frames_out,
                bytes_out=conn.bytes_out,
            )

    async def _wait_disconnect(self, receive: Receive) -> None:
        while True:
            message: Message = await receive()
            if message["type"] == "http.disconnect":
                self.conn.request_close(1001, "client gone")
                return

    async def _write(self, send: Send, chunk: bytes, *, count: bool = True) -> None:
        await send({"type": "http.response.body", "body": chunk, "more_body": True})
        if count:
            self.conn.sent(len(chunk))
            self.live.metrics.frame_sent("sse", len(chunk))

    async def _pump(self, send: Send) -> None:
        """Write pushed frames as they come, a PING after each quiet interval, until closed."""
        conn, interval = self.conn, self.live.heartbeat_interval
        queue = self.stream.queue if self.stream is not None else None
        closing = asyncio.ensure_future(conn.close_requested.wait())
        try:
            while not conn.close_requested.is_set():
                if queue is not None and not queue.empty():
                    await self._write(send, _sse_data(queue.get_nowait()))
                    continue
                getter = asyncio.ensure_future(queue.get()) if queue is not None else None
                waiting = {closing} if getter is None else {closing, getter}
                done, _ = await asyncio.wait(
                    waiting, timeout=interval, return_when=asyncio.FIRST_COMPLETED
                )
                if getter is not None:
                    getter.cancel()
                    if getter.done() and not getter.cancelled():
                        await self._write(send, _sse_data(getter.result()))
                        continue
                if not done:
                    await self._write(send, SSE_PING)
        finally:
            closing.cancel()
        if conn.close_code == 1001:  # the client left: nothing more can be sent
            return
        # Draining: tell EventSource to come back after a short random delay, then end cleanly.
        retry_ms = 500 + random.randrange(1500)
        await self._write(send, f"retry: {retry_ms}\n\n".encode(), count=False)
        await send({"type": "http.response.body", "body": b"", "more_body": False})


def _sse_data(frame: bytes) -> bytes:
    return b"data: " + base64.b64encode(frame) + b"\n\n"


def _refusal_response(refusal: Refusal) -> Response:
    code = "service_restart" if not refusal.is_limit else "too_many_connections"
    retry = "1" if not refusal.is_limit else "5"
    return _refuse(refusal.http_status, code, refusal.message, **{"Retry-After": retry})


async def events_endpoint(live: LivePy, request: Request) -> Response:
    """``GET {path}/events``: the Server-Sent Events stream."""
    ip, client = client_address(request)
    origin = request.headers.get("origin")
    if not origin_allowed(origin, request.headers.get("host"), live.allowed_origins):
        log_event(
            logger, logging.WARNING, "refused", transport="sse", client=client,
            reason=HTTP_ERR_ORIGIN_REFUSED, origin=origin, code=403,
        )  # fmt: skip
        return _refuse(403, HTTP_ERR_ORIGIN_REFUSED, "origin not allowed")
    refusal = live.connections.refusal(ip)
    if refusal is not None:
        log_refusal(live, "sse", client, refusal)
        return _refusal_response(refusal)
    user = await live.resolve_user(request)
    return EventStream(live, Connection("sse", ip, client), user)


async def metrics_endpoint(live: LivePy, request: Request) -> Response:
    """``GET {path}/metrics``: the Prometheus exposition, for authorized scrapers only."""
    auth = live.metrics_auth
    if callable(auth):
        allowed = auth(request)
        if inspect.isawaitable(allowed):
            allowed = await allowed
        if not allowed:
            return PlainTextResponse("forbidden", status_code=403)
    else:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return PlainTextResponse(
                "unauthorized", status_code=401, headers={"WWW-Authenticate": "Bearer"}
            )
        if not hmac.compare_digest(token.strip().encode(), str(auth).encode()):
            return PlainTextResponse("forbidden", status_code=403)
    body, content_type = live.metrics.exposition()
    return Response(body, headers={"Content-Type": content_type, "Cache-Control": "no-store"})
