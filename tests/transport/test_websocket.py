"""The WebSocket endpoint over a real socket: joins, calls, and every kind of bad input."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from livepy import Component, Limits, LivePy, action
from livepy.protocol import (
    Call,
    ErrorFrame,
    Join,
    JoinItem,
    Reply,
    b64decode,
    decode_server_frame,
    encode,
)
from livepy.protocol import constants as c
from tests.conftest import LiveServer, ServeFactory


class WsCounter(Component):
    template_source = "<div><span>{{ count }}</span></div>"
    count: int = 0

    @action
    def increment(self, by: int = 1) -> None:
        self.count += by

    @action
    def explode(self) -> None:
        self.count = 999
        raise RuntimeError("kaboom")

    @action
    def split(self) -> None:
        self.count = -1  # the template below renders two roots for -1

    def not_an_action(self) -> None:
        pass


class WsSplitter(Component):
    template_source = "<div>{{ count }}</div>{% if count < 0 %}<div>two</div>{% endif %}"
    count: int = 0

    @action
    def split(self) -> None:
        self.count = -1


def make_app(**options: Any) -> tuple[Starlette, LivePy]:
    live = LivePy(templates=[], secret_key="test-key", **options)
    page = live.env.from_string(
        "<html><head>{{ livepy_scripts() }}</head><body>"
        "{{ livepy('ws_counter') }}{{ livepy('ws_splitter') }}</body></html>"
    )

    async def home(request: Request) -> Response:
        return Response(page.render(request=request), media_type="text/html")

    app = Starlette(routes=[Route("/", home)])
    live.install(app)
    return app, live


class Client:
    def __init__(self, server: LiveServer, live: LivePy, ws: ClientConnection) -> None:
        self.server, self.live, self.ws = server, live, ws
        self.components: dict[str, tuple[str, bytes]] = {}
        self.seq = 0

    async def load_page(self) -> None:
        async with httpx.AsyncClient() as http:
            html = (await http.get(self.server.url + "/")).text
        for cid, snap in re.findall(r'lp-id="([^"]+)" lp-snapshot="([^"]+)"', html):
            name = self.live.snapshots.verify(b64decode(snap)).name
            self.components[name] = (cid, b64decode(snap))

    async def send(self, data: bytes | str) -> Any:
        await self.ws.send(data)
        return decode_server_frame(await self.ws.recv())  # type: ignore[arg-type]

    async def join(self, *names: str) -> list[Any]:
        items = tuple(JoinItem(*self.components[name]) for name in names)
        await self.ws.send(encode(Join(items)))
        return [decode_server_frame(await self.ws.recv()) for _ in items]  # type: ignore[arg-type]

    async def call(self, name: str, *calls: tuple[str, tuple[Any, ...]], **updates: Any) -> Any:
        self.seq += 1
        cid = self.components[name][0]
        return await self.send(encode(Call(cid, self.seq, updates, calls)))

    async def assert_still_serves(self) -> None:
        before = await self.call("ws_counter", ("$refresh", ()))
        reply = await self.call("ws_counter", ("increment", (1,)))
        assert isinstance(reply, Reply), reply
        count = int(re.search(r"<span>(-?\d+)</span>", reply.html).group(1))  # type: ignore[union-attr,arg-type]
        assert isinstance(before, Reply)
        assert count >= 1


@pytest_asyncio.fixture
async def client(serve: ServeFactory) -> AsyncIterator[Client]:
    app, live = make_app(limits=Limits(max_frame_bytes=2048, max_components_per_connection=3))
    server = await serve(app)
    async with connect(server.ws_url + "/livepy/ws") as ws:
        client = Client(server, live, ws)
        await client.load_page()
        yield client


async def test_join_then_call_increments(client: Client) -> None:
    (joined,) = await client.join("ws_counter")
    assert isinstance(joined, Reply) and joined.seq == 0
    reply = await client.call("ws_counter", ("increment", (5,)))
    assert isinstance(reply, Reply)
    assert reply.seq == 1
    assert reply.html == f'<div lp-id="{client.components["ws_counter"][0]}"><span>5</span></div>'
    assert client.live.snapshots.verify(reply.snapshot).state == {"count": 5}
    reply = await client.call("ws_counter", ("increment", ("2",)))
    assert "<span>7</span>" in reply.html


async def test_unchanged_render_sends_no_html(client: Client) -> None:
    await client.join("ws_counter")
    first = await client.call("ws_counter", ("$refresh", ()))
    second = await client.call("ws_counter", ("$refresh", ()))
    assert first.html is not None
    assert second.html is None and isinstance(second, Reply)


async def test_model_update_is_converted(client: Client) -> None:
    await client.join("ws_counter")
    reply = await client.call("ws_counter", count="41")
    assert "<span>41</span>" in reply.html


async def expect_error(client: Client, frame: Any, code: str, *, cid: str | None = None) -> None:
    error = frame
    assert isinstance(error, ErrorFrame), error
    assert error.code == code, error
    assert error.message
    if cid is not None:
        assert error.cid == cid
    await client.assert_still_serves()


async def test_bad_input_gets_error_frames_and_connection_survives(client: Client) -> None:
    await client.join("ws_counter", "ws_splitter")
    cid = client.components["ws_counter"][0]

    await expect_error(client, await client.send(b"\xc1garbage"), c.ERR_BAD_FRAME)
    await expect_error(client, await client.send("text frame"), c.ERR_BAD_FRAME)
    await expect_error(client, await client.send(b"\x00" * 4096), c.ERR_FRAME_TOO_LARGE)
    await expect_error(
        client, await client.call("ws_counter", ("nope", ())), c.ERR_UNKNOWN_ACTION, cid=cid
    )
    error = await client.call("ws_counter", ("not_an_action", ()))
    assert "not an @action" in error.message
    await expect_error(client, error, c.ERR_UNKNOWN_ACTION)
    error = await client.call("ws_counter", ("dump_state", ()))
    await expect_error(client, error, c.ERR_UNKNOWN_ACTION)
    error = await client.call("ws_counter", ("increment", ("lots",)))
    assert "increment(by)" in error.message
    await expect_error(client, error, c.ERR_BAD_ARGUMENT, cid=cid)
    await expect_error(
        client, await client.call("ws_counter", ("increment", (1, 2))), c.ERR_BAD_ARGUMENT
    )
    await expect_error(client, await client.call("ws_counter", count="x"), c.ERR_BAD_UPDATE)
    await expect_error(client, await client.call("ws_counter", secret=1), c.ERR_BAD_UPDATE)
    await expect_error(
        client,
        await client.send(encode(Call("ghost", 1, {}, (("increment", ()),)))),
        c.ERR_NOT_JOINED,
    )
    many = tuple(("increment", ()) for _ in range(c.DEFAULT_MAX_CALLS_PER_FRAME + 1))
    await expect_error(client, await client.call("ws_counter", *many), c.ERR_TOO_MANY_CALLS)


async def test_snapshot_problems_are_refused(client: Client) -> None:
    await client.join("ws_counter")
    _cid, snapshot = client.components["ws_counter"]
    tampered = bytearray(snapshot)
    tampered[-1] ^= 1
    (error,) = [await client.send(encode(Join((JoinItem("t1", bytes(tampered)),))))]
    await expect_error(client, error, c.ERR_SNAPSHOT_INVALID)
    foreign = LivePy(templates=[], secret_key="other").snapshots.sign("ws_counter", "f1", {})
    error = await client.send(encode(Join((JoinItem("f1", foreign),))))
    await expect_error(client, error, c.ERR_SNAPSHOT_INVALID)
    ghost = client.live.snapshots.sign("no_such_component", "g1", {})
    error = await client.send(encode(Join((JoinItem("g1", ghost),))))
    await expect_error(client, error, c.ERR_UNKNOWN_COMPONENT)
    error = await client.send(encode(Join((JoinItem("someone-else", snapshot),))))
    await expect_error(client, error, c.ERR_SNAPSHOT_INVALID)
    old = client.live.snapshots
    expired = old.sign("ws_counter", "e1", {"count": 1})
    old.clock, real_clock = (lambda: real_clock() + old.max_age + 10), old.clock
    try:
        error = await client.send(encode(Join((JoinItem("e1", expired),))))
    finally:
        old.clock = real_clock
    await expect_error(client, error, c.ERR_SNAPSHOT_EXPIRED)


async def test_too_many_components(client: Client) -> None:
    snapshots = client.live.snapshots
    items = tuple(JoinItem(f"x{i}", snapshots.sign("ws_counter", f"x{i}", {})) for i in range(4))
    error = await client.send(encode(Join(items)))
    assert error.code == c.ERR_TOO_MANY_COMPONENTS and "limit is 3" in error.message
    await client.ws.send(encode(Join(items[:3])))
    frames = [decode_server_frame(await client.ws.recv()) for _ in range(3)]  # type: ignore[arg-type]
    assert all(isinstance(frame, Reply) for frame in frames)
    error = await client.send(encode(Join(items[3:])))
    assert error.code == c.ERR_TOO_MANY_COMPONENTS and error.cid == "x3"
    reply = await client.send(encode(Call("x0", 1, {}, (("increment", ()),))))
    assert isinstance(reply, Reply) and "<span>1</span>" in reply.html


async def test_component_exception_is_isolated_and_state_rolled_back(client: Client) -> None:
    await client.join("ws_counter", "ws_splitter")
    await client.call("ws_counter", ("increment", (3,)))
    error = await client.call("ws_counter", ("explode", ()))
    assert isinstance(error, ErrorFrame) and error.code == c.ERR_COMPONENT_ERROR
    assert error.detail is None  # no traceback outside debug mode
    reply = await client.call("ws_counter", ("increment", (1,)))
    assert "<span>4</span>" in reply.html  # the failed action's 999 was rolled back
    error = await client.call("ws_splitter", ("split", ()))
    assert error.code == c.ERR_COMPONENT_ERROR
    reply = await client.call("ws_splitter", ("$refresh", ()))
    assert isinstance(reply, Reply)
    assert client.live.snapshots.verify(reply.snapshot).state == {"count": 0}


async def test_debug_mode_sends_traceback(serve: ServeFactory) -> None:
    app, live = make_app(debug=True)
    server = await serve(app)
    async with connect(server.ws_url + "/livepy/ws") as ws:
        client = Client(server, live, ws)
        await client.load_page()
        await client.join("ws_counter")
        error = await client.call("ws_counter", ("explode", ()))
    assert "kaboom" in error.message
    assert "Traceback" in error.detail and "RuntimeError: kaboom" in error.detail


async def test_foreign_origin_is_closed_with_4403(serve: ServeFactory) -> None:
    app, _ = make_app()
    server = await serve(app)
    headers = {"Origin": "http://evil.example"}
    async with connect(server.ws_url + "/livepy/ws", additional_headers=headers) as ws:
        with pytest.raises(ConnectionClosed) as info:
            await ws.recv()
    assert info.value.rcvd is not None and info.value.rcvd.code == c.WS_CLOSE_ORIGIN_REFUSED
    same = {"Origin": server.url}
    async with connect(server.ws_url + "/livepy/ws", additional_headers=same) as ws:
        await ws.send(encode(Join(())))
        await ws.send(b"\x91\x05")
        assert decode_server_frame(await ws.recv()).__class__.__name__ == "Pong"  # type: ignore[arg-type]


async def test_allowed_origins_setting(serve: ServeFactory) -> None:
    app, _ = make_app(allowed_origins=["https://app.example"])
    server = await serve(app)
    ok = {"Origin": "https://app.example"}
    async with connect(server.ws_url + "/livepy/ws", additional_headers=ok) as ws:
        await ws.send(b"\x91\x05")
        await ws.recv()
    async with connect(
        server.ws_url + "/livepy/ws", additional_headers={"Origin": server.url}
    ) as ws:
        with pytest.raises(ConnectionClosed):
            await ws.recv()
