"""The HTTP fallback over a real server: POST update round trips, refusals, the SSE stream."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import httpx
import msgpack
import pytest

from livepy import Limits
from livepy.protocol import (
    ErrorFrame,
    Joined,
    Pong,
    Reply,
    apply_diff,
    apply_ops,
    decode_server_frame,
)
from livepy.protocol import constants as c
from tests.conftest import LiveServer, ServeFactory
from tests.protocol_client import snapshots_in
from tests.transport.apps import make_app, wait_until

HEADERS = {"X-Livepy": "1", "Content-Type": "application/msgpack"}


def pack(value: Any) -> bytes:
    return msgpack.packb(value, use_bin_type=True)


async def page_snapshot(
    http: httpx.AsyncClient, server: LiveServer, name: str = "tx_counter"
) -> tuple[str, list[Any]]:
    html = (await http.get(server.url + "/")).text
    return next((cid, snap) for cid, snap in snapshots_in(html).items() if snap[0] == name)


async def post(http: httpx.AsyncClient, server: LiveServer, frames: Any, **headers: str) -> Any:
    return await http.post(
        server.url + "/livepy/update",
        content=frames if isinstance(frames, bytes) else pack(frames),
        headers={**HEADERS, **headers},
    )


def server_frames(response: httpx.Response) -> list[Any]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/msgpack"
    return [decode_server_frame(pack(frame)) for frame in msgpack.unpackb(response.content)]


async def test_join_and_call_round_trip(serve: ServeFactory) -> None:
    app, live = make_app()
    server = await serve(app)
    async with httpx.AsyncClient() as http:
        cid, snapshot = await page_snapshot(http, server)
        join = [c.FRAME_JOIN, [[cid, snapshot]]]
        call = [c.FRAME_CALL, 1, 1, {}, [["increment", [5]]]]
        joined, reply = server_frames(await post(http, server, [join, call]))
        assert isinstance(joined, Joined) and joined.cid == cid and joined.ref == 1
        assert "<span>0</span>" in joined.html
        assert isinstance(reply, Reply) and (reply.ref, reply.seq) == (1, 1)
        html = (
            reply.render if isinstance(reply.render, str) else apply_diff(joined.html, reply.render)
        )
        assert "<span>5</span>" in html
        assert reply.patch is not None
        issued_at, ops, mac = reply.patch
        apply_ops(snapshot[3], ops)
        snapshot[4] = mac
        if issued_at is not None:
            snapshot[2] = issued_at
        assert live.snapshots.verify(snapshot).state == {"count": 5}

        # Stateless: the next request starts from the patched snapshot, with two calls in a row.
        again = [c.FRAME_CALL, 1, 2, {}, [["increment", [1]]]]
        call = [c.FRAME_CALL, 1, 1, {}, [["increment", [2]]]]
        frames = server_frames(await post(http, server, [[1, [[cid, snapshot]]], call, again]))
        assert [type(f) for f in frames] == [Joined, Reply, Reply]
        assert "<span>5</span>" in frames[0].html
        html = apply_diff(apply_diff(frames[0].html, frames[1].render), frames[2].render)
        assert "<span>8</span>" in html

        # A PING gets a PONG; an empty batch gets an empty answer.
        assert server_frames(await post(http, server, [[c.FRAME_PING]])) == [Pong()]
        assert server_frames(await post(http, server, [])) == []
    assert len(live.sessions) == 0  # nothing is kept between requests


async def test_tampered_snapshot_gets_error_frames(serve: ServeFactory) -> None:
    app, _ = make_app()
    server = await serve(app)
    async with httpx.AsyncClient() as http:
        cid, snapshot = await page_snapshot(http, server)
        snapshot[3]["count"] = 1000
        call = [c.FRAME_CALL, 1, 1, {}, [["increment", []]]]
        invalid, not_joined = server_frames(
            await post(http, server, [[1, [[cid, snapshot]]], call])
        )
    assert isinstance(invalid, ErrorFrame) and invalid.code == c.ERR_SNAPSHOT_INVALID
    assert invalid.cid == cid
    assert isinstance(not_joined, ErrorFrame) and not_joined.code == c.ERR_NOT_JOINED
    assert not_joined.seq == 1


async def test_bad_frames_inside_the_batch_get_error_frames(serve: ServeFactory) -> None:
    app, _ = make_app()
    server = await serve(app)
    async with httpx.AsyncClient() as http:
        (error,) = server_frames(await post(http, server, [[99]]))
    assert isinstance(error, ErrorFrame) and error.code == c.ERR_BAD_FRAME


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({"X-Livepy": ""}, "header_missing"),
        ({"X-Livepy": "0"}, "header_missing"),
        ({"Origin": "http://evil.example"}, "origin_refused"),
    ],
)
async def test_csrf_and_origin_checks(
    serve: ServeFactory, headers: dict[str, str], code: str
) -> None:
    app, _ = make_app()
    server = await serve(app)
    async with httpx.AsyncClient() as http:
        cid, snapshot = await page_snapshot(http, server)
        response = await post(http, server, [[1, [[cid, snapshot]]]], **headers)
    assert response.status_code == 403
    assert response.headers["x-livepy-error"] == code
    assert response.text.startswith(code + ": ")


async def test_header_is_required_even_without_any_other_header(serve: ServeFactory) -> None:
    app, _ = make_app()
    server = await serve(app)
    async with httpx.AsyncClient() as http:
        response = await http.post(server.url + "/livepy/update", content=pack([]))
    assert response.status_code == 403


async def test_own_origin_and_allowed_origins_pass(serve: ServeFactory) -> None:
    app, _ = make_app(allowed_origins=["https://app.example"])
    server = await serve(app)
    async with httpx.AsyncClient() as http:
        ok = await post(http, server, [], Origin="https://app.example")
        refused = await post(http, server, [], Origin=server.url)
    assert ok.status_code == 200
    assert refused.status_code == 403


async def test_oversize_and_malformed_bodies(serve: ServeFactory) -> None:
    app, _ = make_app(limits=Limits(max_http_body_bytes=1024))
    server = await serve(app)
    async with httpx.AsyncClient() as http:
        big = await post(http, server, [[c.FRAME_PING]] * 600)
        assert big.status_code == 413 and big.headers["x-livepy-error"] == c.ERR_FRAME_TOO_LARGE

        async def chunks() -> Any:  # no Content-Length: the size is counted while reading
            for _ in range(10):
                yield b"\x00" * 200

        response = await http.post(server.url + "/livepy/update", content=chunks(), headers=HEADERS)
        assert response.status_code == 413

        for body in (b"\xc1", pack({"not": "an array"}), pack([]) + b"\x00", b"\x92\x91\x05"):
            response = await post(http, server, body)
            assert response.status_code == 400, body
            assert response.headers["x-livepy-error"] == c.ERR_BAD_FRAME
        response = await post(http, server, [[c.FRAME_PING]] * 65)
        assert response.status_code == 400
        assert response.headers["x-livepy-error"] == c.ERR_TOO_MANY_CALLS


async def test_fallback_works_when_websocket_is_off(serve: ServeFactory) -> None:
    app, _ = make_app(websocket=False)
    server = await serve(app)
    async with httpx.AsyncClient() as http:
        cid, snapshot = await page_snapshot(http, server)
        call = [c.FRAME_CALL, 1, 1, {}, [["increment", [2]]]]
        _, reply = server_frames(await post(http, server, [[1, [[cid, snapshot]]], call]))
    assert isinstance(reply, Reply)


async def test_sse_stream_delivers_pings(serve: ServeFactory) -> None:
    app, live = make_app(heartbeat_interval=0.05)
    server = await serve(app)
    async with (
        httpx.AsyncClient(timeout=10) as http,
        http.stream("GET", server.url + "/livepy/events") as stream,
    ):
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        assert "content-length" not in stream.headers
        data, named = [], False
        async for line in stream.aiter_lines():
            if line.startswith("event: "):  # the `stream` event: its data is the stream token
                named = True
            elif line.startswith("data: ") and named:
                named = False
            elif line.startswith("data: "):
                data.append(line.removeprefix("data: "))
                if len(data) == 2:
                    break
        assert [msgpack.unpackb(base64.b64decode(d)) for d in data] == [[c.FRAME_PING]] * 2
        (conn,) = live.connections
        assert conn.transport == "sse" and conn.frames_out >= 2
    await wait_until(lambda: len(live.connections) == 0)  # the client left: the slot is free


async def test_sse_ends_cleanly_when_draining(serve: ServeFactory) -> None:
    app, live = make_app(heartbeat_interval=30)
    server = await serve(app)
    async with (
        httpx.AsyncClient(timeout=10) as http,
        http.stream("GET", server.url + "/livepy/events") as stream,
    ):
        await wait_until(lambda: len(live.connections) == 1)
        draining = asyncio.create_task(live.drain(1))
        body = b"".join([chunk async for chunk in stream.aiter_bytes()])
        await draining
        assert body.startswith(b": livepy\n\n") and body.endswith(b"\n\n")
        assert b"retry: " in body
        late = await http.get(server.url + "/livepy/events")
    assert late.status_code == 503 and late.headers["retry-after"] == "1"
    assert late.headers["x-livepy-error"] == "service_restart"


async def test_sse_refuses_foreign_origin(serve: ServeFactory) -> None:
    app, _ = make_app()
    server = await serve(app)
    async with httpx.AsyncClient() as http:
        response = await http.get(
            server.url + "/livepy/events", headers={"Origin": "http://evil.example"}
        )
    assert response.status_code == 403
    assert response.headers["x-livepy-error"] == "origin_refused"
