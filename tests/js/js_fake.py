"""A stand-in livepy server for the browser runtime's unit tests.

The runtime is plain ES modules, which browsers refuse to load from file://, so a tiny ASGI
app serves ``js/`` under ``/js/`` next to test pages. ``FakeLive`` answers on ``/livepy/ws``:
tests read the frames the runtime sends and script the replies.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
from pathlib import Path
from typing import Any

import msgpack
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

JS_DIR = Path(__file__).resolve().parents[2] / "js"
MAC_BYTES = 16
WAIT_S = 5.0  # how long the fake waits for the browser before failing the test
BLANK = "<!doctype html><html><head><title>livepy js tests</title></head><body></body></html>"

FRAME_JOIN, FRAME_CALL, FRAME_REPLY, FRAME_ERROR, FRAME_PING, FRAME_PONG = range(1, 7)


def pack(value: Any) -> bytes:
    return msgpack.packb(value, use_bin_type=True)


def snapshot(cid: str, state: dict[str, Any], name: str = "widget") -> bytes:
    """A snapshot laid out like the server's, with a dummy MAC (the client never checks it)."""
    return pack([1, name, cid, 1_700_000_000, state]) + bytes(range(MAC_BYTES))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def page_html(body: str, *, debug: bool = False) -> str:
    """A page as livepy_scripts() would set it up, with the runtime served from /js/."""
    config = '{"ws": "/livepy/ws", "debug": %s}' % ("true" if debug else "false")
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        "<style>[lp-loading],[lp-offline]{display:none}</style>"
        f'<script type="application/json" id="livepy-config">{config}</script>'
        '<script type="module" src="/js/livepy.js"></script>'
        f"</head><body>{body}</body></html>"
    )


class Conn:
    """One browser socket as the fake server sees it."""

    def __init__(self, ws: WebSocket) -> None:
        self.ws = ws
        self.frames: asyncio.Queue[list[Any]] = asyncio.Queue()
        self.closed = asyncio.Event()

    async def recv(self) -> list[Any]:
        async with asyncio.timeout(WAIT_S):
            return await self.frames.get()

    async def recv_type(self, frame_type: int) -> list[Any]:
        """The next frame of `frame_type`; PONGs and other types in between are skipped."""
        while True:
            frame = await self.recv()
            if frame[0] == frame_type:
                return frame

    async def send(self, frame: list[Any]) -> None:
        await self.ws.send_bytes(pack(frame))

    async def reply(
        self,
        cid: str,
        seq: int,
        state: dict[str, Any],
        html: str | None = None,
        effects: Any = None,
    ) -> None:
        await self.send([FRAME_REPLY, cid, seq, html, snapshot(cid, state), effects])

    async def close(self, code: int = 1000) -> None:
        await self.ws.close(code)
        async with asyncio.timeout(WAIT_S):
            await self.closed.wait()


class FakeLive:
    """Test pages plus a scriptable stand-in for the livepy WebSocket endpoint."""

    def __init__(self) -> None:
        self.pages: dict[str, str] = {"/blank": BLANK}
        self.connections: asyncio.Queue[Conn] = asyncio.Queue()
        self.opened: list[Conn] = []
        self.url = ""

    async def page(self, request: Any) -> HTMLResponse:
        html = self.pages.get(request.url.path)
        return HTMLResponse(html or "not found", status_code=200 if html else 404)

    async def socket(self, ws: WebSocket) -> None:
        await ws.accept()
        conn = Conn(ws)
        self.opened.append(conn)
        await self.connections.put(conn)
        try:
            while True:
                conn.frames.put_nowait(msgpack.unpackb(await ws.receive_bytes(), raw=False))
        except (WebSocketDisconnect, RuntimeError):
            pass  # the browser went away, or the test closed the socket
        finally:
            conn.closed.set()

    async def close_all(self) -> None:
        """Close the sockets still open, so that the server can stop without waiting on them."""
        for conn in self.opened:
            if not conn.closed.is_set():
                with contextlib.suppress(RuntimeError):
                    await conn.ws.close(1001)

    async def accept(self) -> Conn:
        async with asyncio.timeout(WAIT_S):
            return await self.connections.get()

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Mount("/js", StaticFiles(directory=JS_DIR)),
                WebSocketRoute("/livepy/ws", self.socket),
                Route("/{path:path}", self.page),
            ]
        )
