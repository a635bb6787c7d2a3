"""A stand-in livepy server for the browser runtime's unit tests.

The runtime is plain ES modules, which browsers refuse to load from file://, so a tiny ASGI
app serves ``js/`` under ``/js/`` next to test pages. ``FakeLive`` answers on ``/livepy/ws``:
tests read the frames the runtime sends and script the replies.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from pathlib import Path
from typing import Any

import msgpack
from starlette.applications import Starlette
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

JS_DIR = Path(__file__).resolve().parents[2] / "js"
MAC_BYTES = 8
MAC = bytes(range(MAC_BYTES))  # a dummy MAC: the client never checks it
ISSUED_AT = 1_700_000_000
WAIT_S = 5.0  # how long the fake waits for the browser before failing the test
BLANK = "<!doctype html><html><head><title>livepy js tests</title></head><body></body></html>"

(
    FRAME_JOIN,
    FRAME_CALL,
    FRAME_REPLY,
    FRAME_ERROR,
    FRAME_PING,
    FRAME_PONG,
    FRAME_JOINED,
    FRAME_RESYNC,
) = range(1, 9)


def pack(value: Any) -> bytes:
    return msgpack.packb(value, use_bin_type=True)


def snapshot(cid: str, state: dict[str, Any], name: str = "widget", mac: bytes = MAC) -> list[Any]:
    """A snapshot array as the server lays it out (v2): [name, cid, issued_at, state, mac]."""
    return [name, cid, ISSUED_AT, state, mac]


def snapshot_attr(cid: str, state: dict[str, Any], name: str = "widget") -> str:
    """The lp-snapshot attribute value for a snapshot."""
    return b64url(pack(snapshot(cid, state, name)))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def state_ops(old: dict[str, Any], new: dict[str, Any]) -> list[list[Any]]:
    """snap_patch ops from `old` to `new`, top-level keys only (a valid subset of the server's)."""
    ops: list[list[Any]] = [[[key]] for key in old if key not in new]
    ops += [[[key], value] for key, value in new.items() if key not in old or old[key] != value]
    return ops


def page_html(body: str, *, debug: bool = False, **config: Any) -> str:
    """A page as livepy_scripts() would set it up, with the runtime served from /js/."""
    settings = json.dumps({"ws": "/livepy/ws", "debug": debug, **config})
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        "<style>[lp-loading],[lp-offline]{display:none}</style>"
        f'<script type="application/json" id="livepy-config">{settings}</script>'
        '<script type="module" src="/js/livepy.js"></script>'
        f"</head><body>{body}</body></html>"
    )


class Conn:
    """One browser socket as the fake server sees it, with the refs and states it handed out."""

    def __init__(self, ws: WebSocket) -> None:
        self.ws = ws
        self.frames: asyncio.Queue[list[Any]] = asyncio.Queue()
        self.closed = asyncio.Event()
        self.close_code: int | None = None  # set when the browser closed the socket
        self.refs: dict[str, int] = {}
        self.states: dict[str, dict[str, Any]] = {}

    async def recv(self) -> list[Any]:
        async with asyncio.timeout(WAIT_S):
            return await self.frames.get()

    async def recv_type(self, frame_type: int) -> list[Any]:
        """The next frame of `frame_type`; PINGs, PONGs and other types in between are skipped."""
        while True:
            frame = await self.recv()
            if frame[0] == frame_type:
                return frame

    async def recv_call(self) -> list[Any]:
        """The next CALL, skipping heartbeats."""
        return await self.recv_type(FRAME_CALL)

    async def send(self, frame: list[Any]) -> None:
        await self.ws.send_bytes(pack(frame))

    async def joined(self, cid: str, html: str, state: dict[str, Any], patch: Any = None) -> int:
        """Answer a JOIN of `cid` with the next ref; `state` is what its snapshot carried."""
        ref = self.refs.get(cid) or len(self.refs) + 1
        self.refs[cid] = ref
        self.states[cid] = state
        await self.send([FRAME_JOINED, cid, ref, html, patch])
        return ref

    def patch(self, cid: str, state: dict[str, Any] | None) -> list[Any] | None:
        """The snap_patch turning the client's state of `cid` into `state` (None: unchanged)."""
        if state is None:
            return None
        ops = state_ops(self.states[cid], state)
        self.states[cid] = state
        return [None, ops, MAC] if ops else None

    async def reply(
        self,
        cid: str,
        seq: int,
        state: dict[str, Any] | None = None,
        html: Any = None,
        effects: Any = None,
    ) -> None:
        """A REPLY for `cid`: `html` is the render (None, full html or a diff list)."""
        frame = [FRAME_REPLY, self.refs[cid], seq, html, self.patch(cid, state)]
        if effects is not None:
            frame.append(effects)
        await self.send(frame)

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
        self.refused = 0  # WebSocket handshakes turned away while `refusing`
        self.refusing = False
        self.closing = False  # the test is over: the browser's reconnects are turned away
        self.http_js: str | None = None  # served as /js/http.js instead of the real file
        self.url = ""

    async def page(self, request: Any) -> HTMLResponse:
        html = self.pages.get(request.url.path)
        return HTMLResponse(html or "not found", status_code=200 if html else 404)

    async def http_transport(self, request: Any) -> Response:
        if self.http_js is not None:
            return Response(self.http_js, media_type="text/javascript")
        path = JS_DIR / "http.js"
        if not path.exists():
            return Response("not found", status_code=404)
        return FileResponse(path, media_type="text/javascript")

    async def socket(self, ws: WebSocket) -> None:
        if self.refusing or self.closing:
            self.refused += 1
            await ws.close()  # before accept: the handshake fails with HTTP 403
            return
        await ws.accept()
        conn = Conn(ws)
        self.opened.append(conn)
        await self.connections.put(conn)
        try:
            while True:
                conn.frames.put_nowait(msgpack.unpackb(await ws.receive_bytes(), raw=False))
        except WebSocketDisconnect as exc:
            conn.close_code = exc.code  # the browser closed or went away
        except RuntimeError:
            pass  # the test closed the socket
        finally:
            conn.closed.set()

    async def close_all(self) -> None:
        """Close the sockets still open, so that the server can stop without waiting on them."""
        self.closing = True
        for conn in self.opened:
            if not conn.closed.is_set():
                with contextlib.suppress(RuntimeError):
                    await conn.ws.close(1001)

    async def accept(self, wait_s: float = WAIT_S) -> Conn:
        async with asyncio.timeout(wait_s):
            return await self.connections.get()

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/js/http.js", self.http_transport),
                Mount("/js", StaticFiles(directory=JS_DIR)),
                WebSocketRoute("/livepy/ws", self.socket),
                Route("/{path:path}", self.page),
            ]
        )


# -- pages and helpers shared by the runtime tests ------------------------------------------

RECORD_EVENTS = """
window.__events = [];
for (const name of ["lp:connected", "lp:disconnected", "lp:reconnected", "lp:error"]) {
  window.addEventListener(name, (e) => window.__events.push([name, e.detail ?? null]));
}
"""

COUNTER = """
<div lp-id="c1" lp-snapshot="{snap}">
  <span id="count">{count}</span>
  <button id="inc" lp-click="increment">+</button>
  <button id="inc5" lp-click.prevent="increment(5)">+5</button>
  <button id="set" lp-click="$set('name', 'Set by click')">set</button>
  <button id="refresh" lp-click="$refresh">refresh</button>
  <button id="save" lp-click="save" lp-loading.attr="disabled" lp-target="save">save</button>
  <input id="name" lp-model="name">
  <input id="search" lp-model.live="search">
  <input id="todo" lp-keydown.enter="add">
  <span id="spin" lp-loading>working</span>
  <span id="fade" lp-loading.class="faded busy">fade</span>
  <span id="off" lp-offline.flex>offline</span>
  <span id="slow" lp-loading.delay.block>slow</span>
  <input id="bio" lp-model.blur="bio">
</div>
"""


def counter(count: int = 0, **extra: Any) -> tuple[str, dict[str, Any]]:
    state = {"count": count, "name": "", "search": "", **extra}
    return COUNTER.format(snap=snapshot_attr("c1", state), count=count), state


async def answer_join(page: Any, conn: Conn) -> list[Any]:
    """Answer the next JOIN like a server: a JOINED per component, with its html as on the page."""
    join = await conn.recv_type(FRAME_JOIN)
    for cid, snap in join[1]:
        html = await page.evaluate(
            "(id) => document.querySelector(`[lp-id='${id}']`).outerHTML", cid
        )
        await conn.joined(cid, html, snap[3])
    cids = [cid for cid, _ in join[1]]
    await page.wait_for_function(
        "ids => ids.every((id) => window.livepy.find(id)?.joined)", arg=cids
    )
    return join


async def open_page(
    page: Any, live: FakeLive, body: str, *, debug: bool = False, **config: Any
) -> Conn:
    """Load a page with `body`, accept its socket and answer its JOIN."""
    live.pages["/p"] = page_html(body, debug=debug, **config)
    await page.add_init_script(RECORD_EVENTS)
    await page.goto(live.url + "/p")
    conn = await live.accept()
    await answer_join(page, conn)
    return conn
