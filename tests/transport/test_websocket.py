"""The WebSocket endpoint over a real socket: joins, calls, diffs, and every kind of bad input."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from livepy import Component, Limits, LivePy, action
from livepy.protocol import (
    Call,
    ErrorFrame,
    Join,
    Joined,
    JoinItem,
    Reply,
    Resync,
    decode_server_frame,
    encode,
)
from livepy.protocol import constants as c
from tests.conftest import ServeFactory
from tests.protocol_client import ProtocolClient


@pytest.fixture
def serve(serve_each: ServeFactory) -> ServeFactory:
    """Every test here runs as `livepy serve` serves the app and through plain ASGI."""
    return serve_each


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

    def not_an_action(self) -> None:
        pass


class WsSplitter(Component):
    template_source = "<div>{{ count }}</div>{% if count < 0 %}<div>two</div>{% endif %}"
    count: int = 0

    @action
    def split(self) -> None:
        self.count = -1


class WsTable(Component):
    template_source = (
        "<table>{% for row in rows %}<tr lp-key='{{ loop.index }}'>"
        "{% for cell in row %}<td>{{ cell }}</td>{% endfor %}</tr>{% endfor %}</table>"
    )
    rows: list[list[int]] = [[r * 10 + col for col in range(5)] for r in range(200)]

    @action
    def set_cell(self, row: int, col: int, value: int) -> None:
        self.rows[row][col] = value

    @action
    def append(self) -> None:
        self.rows.append([len(self.rows)] * 5)


def make_app(**options: Any) -> tuple[Starlette, LivePy]:
    live = LivePy(templates=[], secret_key="test-key", **options)
    page = live.env.from_string(
        "<html><head>{{ livepy_scripts() }}</head><body>"
        "{{ livepy('ws_counter') }}{{ livepy('ws_splitter') }}{{ livepy('ws_table') }}"
        "</body></html>"
    )

    async def home(request: Request) -> Response:
        return Response(page.render(request=request), media_type="text/html")

    app = Starlette(routes=[Route("/", home)])
    live.install(app)
    return app, live


class Client(ProtocolClient):
    live: LivePy

    async def assert_still_serves(self) -> None:
        before = self.held["ws_counter"].state["count"]
        reply = await self.call("ws_counter", ("increment", (1,)))
        assert isinstance(reply, Reply), reply
        assert self.held["ws_counter"].state["count"] == before + 1
        assert f"<span>{before + 1}</span>" in self.held["ws_counter"].html
        self.verify("ws_counter", self.live.snapshots)


@pytest_asyncio.fixture
async def client(serve: ServeFactory) -> AsyncIterator[Client]:
    app, live = make_app(limits=Limits(max_frame_bytes=16384, max_components_per_connection=3))
    server = await serve(app)
    async with connect(server.ws_url + "/livepy/ws") as ws:
        client = Client(ws)
        client.live = live
        await client.load(server.url + "/")
        yield client


async def test_join_then_call_increments(client: Client) -> None:
    (joined,) = await client.join("ws_counter")
    cid = client.held["ws_counter"].cid
    assert isinstance(joined, Joined) and joined.ref == 1
    assert joined.html == f'<div lp-id="{cid}"><span>0</span></div>'
    reply = await client.call("ws_counter", ("increment", (5,)))
    assert isinstance(reply, Reply) and reply.seq == 1
    assert client.held["ws_counter"].html == f'<div lp-id="{cid}"><span>5</span></div>'
    assert client.verify("ws_counter", client.live.snapshots).state == {"count": 5}
    await client.call("ws_counter", ("increment", ("2",)))
    assert "<span>7</span>" in client.held["ws_counter"].html
    client.verify("ws_counter", client.live.snapshots)


async def test_counter_reply_is_at_most_40_bytes(client: Client) -> None:
    await client.join("ws_counter")
    await client.ws.send(encode(Call(1, 1, {}, (("increment", ()),))))
    data = await client.ws.recv()
    assert isinstance(data, bytes)
    reply = decode_server_frame(data)
    assert isinstance(reply, Reply) and isinstance(reply.render, list)
    assert len(data) <= 40, len(data)


async def test_one_table_cell_and_an_appended_row_cost_little(client: Client) -> None:
    await client.join("ws_table")
    table = client.held["ws_table"]
    await client.ws.send(encode(Call(table.ref, 1, {}, (("set_cell", (57, 3, 9999)),))))
    cell = await client.ws.recv()
    assert len(cell) <= 150, len(cell)
    await client.ws.send(encode(Call(table.ref, 2, {}, (("append", ()),))))
    row = await client.ws.recv()
    assert len(row) <= 200, len(row)


async def test_diffs_and_patches_keep_client_copy_exact(client: Client) -> None:
    await client.join("ws_table")
    for seq, call in enumerate(
        [("set_cell", (3, 1, 5)), ("append", ()), ("set_cell", (200, 0, -1))]
    ):
        reply = await client.call("ws_table", call)
        assert isinstance(reply, Reply), reply
        assert isinstance(client.held["ws_table"].renders[-1], list), seq
    client.verify("ws_table", client.live.snapshots)
    await client.ws.send(encode(Resync(client.held["ws_table"].ref)))
    full = await client.recv()
    assert isinstance(full, Reply) and isinstance(full.render, str)
    assert full.render == client.held["ws_table"].html


async def test_unchanged_render_sends_nothing_but_the_ack(client: Client) -> None:
    await client.join("ws_counter")
    reply = await client.call("ws_counter", ("$refresh", ()))
    assert isinstance(reply, Reply) and reply.render is None and reply.patch is None


async def test_model_update_is_converted(client: Client) -> None:
    await client.join("ws_counter")
    await client.call("ws_counter", count="41")
    assert "<span>41</span>" in client.held["ws_counter"].html
    assert client.held["ws_counter"].state == {"count": 41}


async def expect_error(client: Client, frame: Any, code: str, *, cid: str | None = None) -> None:
    assert isinstance(frame, ErrorFrame), frame
    assert frame.code == code, frame
    assert frame.message
    if cid is not None:
        assert frame.cid == cid
    await client.assert_still_serves()


async def test_bad_input_gets_error_frames_and_connection_survives(client: Client) -> None:
    await client.join("ws_counter", "ws_splitter")
    cid = client.held["ws_counter"].cid

    await expect_error(client, await client.send(b"\xc1garbage"), c.ERR_BAD_FRAME)
    await expect_error(client, await client.send("text frame"), c.ERR_BAD_FRAME)
    await expect_error(client, await client.send(b"\x00" * 20000), c.ERR_FRAME_TOO_LARGE)
    await expect_error(
        client, await client.call("ws_counter", ("nope", ())), c.ERR_UNKNOWN_ACTION, cid=cid
    )
    error = await client.call("ws_counter", ("not_an_action", ()))
    assert "not an @action" in error.message
    await expect_error(client, error, c.ERR_UNKNOWN_ACTION)
    await expect_error(
        client, await client.call("ws_counter", ("dump_state", ())), c.ERR_UNKNOWN_ACTION
    )
    error = await client.call("ws_counter", ("increment", ("lots",)))
    assert "increment(by)" in error.message
    await expect_error(client, error, c.ERR_BAD_ARGUMENT, cid=cid)
    await expect_error(
        client, await client.call("ws_counter", ("increment", (1, 2))), c.ERR_BAD_ARGUMENT
    )
    await expect_error(client, await client.call("ws_counter", count="x"), c.ERR_BAD_UPDATE)
    await expect_error(client, await client.call("ws_counter", secret=1), c.ERR_BAD_UPDATE)
    await expect_error(
        client, await client.send(encode(Call(99, 1, {}, (("increment", ()),)))), c.ERR_NOT_JOINED
    )
    await expect_error(client, await client.send(encode(Resync(99))), c.ERR_NOT_JOINED)
    many = tuple(("increment", ()) for _ in range(c.DEFAULT_MAX_CALLS_PER_FRAME + 1))
    await expect_error(client, await client.call("ws_counter", *many), c.ERR_TOO_MANY_CALLS)


async def test_snapshot_problems_are_refused(client: Client) -> None:
    await client.join("ws_counter")
    held = client.held["ws_counter"]
    tampered = copy.deepcopy(held.snapshot)
    tampered[3]["count"] = 1_000_000
    error = await client.send(encode(Join((JoinItem(held.cid, tampered),))))
    await expect_error(client, error, c.ERR_SNAPSHOT_INVALID)
    foreign = LivePy(templates=[], secret_key="other").snapshots.sign("ws_counter", "f1", {})
    error = await client.send(encode(Join((JoinItem("f1", foreign.to_wire()),))))
    await expect_error(client, error, c.ERR_SNAPSHOT_INVALID)
    ghost = client.live.snapshots.sign("no_such_component", "g1", {})
    error = await client.send(encode(Join((JoinItem("g1", ghost.to_wire()),))))
    await expect_error(client, error, c.ERR_UNKNOWN_COMPONENT)
    error = await client.send(encode(Join((JoinItem("someone-else", held.snapshot),))))
    await expect_error(client, error, c.ERR_SNAPSHOT_INVALID)
    snapshots = client.live.snapshots
    expired = snapshots.sign("ws_counter", "e1", {"count": 1}, issued_at=1)
    error = await client.send(encode(Join((JoinItem("e1", expired.to_wire()),))))
    await expect_error(client, error, c.ERR_SNAPSHOT_EXPIRED)


async def test_too_many_components(client: Client) -> None:
    snapshots = client.live.snapshots
    items = tuple(
        JoinItem(f"x{i}", snapshots.sign("ws_counter", f"x{i}", {"count": 0}).to_wire())
        for i in range(4)
    )
    error = await client.send(encode(Join(items)))
    assert error.code == c.ERR_TOO_MANY_COMPONENTS and "limit is 3" in error.message
    await client.ws.send(encode(Join(items[:3])))
    frames = [decode_server_frame(await client.ws.recv()) for _ in range(3)]  # type: ignore[arg-type]
    assert [f.ref for f in frames] == [1, 2, 3]  # type: ignore[union-attr]
    error = await client.send(encode(Join(items[3:])))
    assert error.code == c.ERR_TOO_MANY_COMPONENTS and error.cid == "x3"
    await client.ws.send(encode(Join(items[:1])))  # a rejoin replaces, and does not count twice
    rejoined = decode_server_frame(await client.ws.recv())  # type: ignore[arg-type]
    assert isinstance(rejoined, Joined) and rejoined.ref == 4
    await client.ws.send(encode(Call(4, 1, {}, (("increment", ()),))))
    reply = decode_server_frame(await client.ws.recv())  # type: ignore[arg-type]
    assert isinstance(reply, Reply) and reply.ref == 4
    await client.ws.send(encode(Call(1, 1, {}, (("increment", ()),))))
    stale = decode_server_frame(await client.ws.recv())  # type: ignore[arg-type]
    assert isinstance(stale, ErrorFrame) and stale.code == c.ERR_NOT_JOINED


async def test_component_exception_is_isolated_and_state_rolled_back(client: Client) -> None:
    await client.join("ws_counter", "ws_splitter")
    await client.call("ws_counter", ("increment", (3,)))
    error = await client.call("ws_counter", ("explode", ()))
    assert isinstance(error, ErrorFrame) and error.code == c.ERR_COMPONENT_ERROR
    assert error.detail is None  # no traceback outside debug mode
    await client.call("ws_counter", ("increment", (1,)))
    assert "<span>4</span>" in client.held["ws_counter"].html  # the failed action's 999 was undone
    error = await client.call("ws_splitter", ("split", ()))
    assert error.code == c.ERR_COMPONENT_ERROR
    reply = await client.call("ws_splitter", ("$refresh", ()))
    assert isinstance(reply, Reply) and reply.patch is None
    assert client.verify("ws_splitter", client.live.snapshots).state == {"count": 0}


async def test_debug_mode_sends_traceback(serve: ServeFactory) -> None:
    app, _live = make_app(debug=True)
    server = await serve(app)
    async with connect(server.ws_url + "/livepy/ws") as ws:
        client = Client(ws)
        await client.load(server.url + "/")
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
