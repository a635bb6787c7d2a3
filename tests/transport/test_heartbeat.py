"""Server heartbeats over a real socket: PINGs arrive, silent clients get 4408, live ones stay."""

from __future__ import annotations

import asyncio
import logging
import time

import msgpack
import pytest
from websockets.asyncio.client import ClientConnection, connect

from livepy import LivePy
from livepy.exceptions import ConfigurationError
from livepy.protocol import constants as c
from tests.conftest import ServeFactory
from tests.transport.apps import PONG, close_code, make_app, wait_until


@pytest.fixture
def serve(serve_each: ServeFactory) -> ServeFactory:
    """Every test here runs as `livepy serve` serves the app and through plain ASGI."""
    return serve_each


async def test_ping_arrives_and_silent_client_is_closed_with_4408(
    serve: ServeFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="livepy.transport")
    app, live = make_app(heartbeat_interval=0.1)
    assert live.heartbeat_timeout == pytest.approx(0.2)
    server = await serve(app)
    opened = time.monotonic()  # before connecting: the server's silence is counted from accept
    async with connect(server.ws_url + "/livepy/ws") as ws:
        assert msgpack.unpackb(await ws.recv()) == [c.FRAME_PING]
        code, reason = await close_code(ws)  # never answered: the server gives up
    assert code == c.WS_CLOSE_HEARTBEAT_TIMEOUT and reason == "heartbeat timeout"
    assert time.monotonic() - opened >= 0.2
    events = [getattr(r, "event", None) for r in caplog.records]
    assert "heartbeat_timeout" in events

    def disconnects() -> list[str]:  # logged once the server side has wound down
        return [r.getMessage() for r in caplog.records if getattr(r, "event", "") == "disconnect"]

    await wait_until(lambda: bool(disconnects()))
    (line,) = disconnects()
    assert "code=4408 by=server" in line and "frames_in=0" in line


async def test_client_that_answers_stays_connected(serve: ServeFactory) -> None:
    app, live = make_app(heartbeat_interval=0.05, heartbeat_timeout=1.0)
    server = await serve(app)
    async with connect(server.ws_url + "/livepy/ws") as ws:
        started = time.monotonic()
        pings = 0
        while time.monotonic() - started < 1.5:  # longer than the timeout
            assert msgpack.unpackb(await ws.recv()) == [c.FRAME_PING]
            pings += 1
            await ws.send(PONG)
        assert pings >= 3
        (conn,) = live.connections
        await wait_until(lambda: conn.frames_in == pings)  # every PONG was counted
        assert conn.frames_out >= pings


def test_heartbeat_settings_are_checked() -> None:
    with pytest.raises(ConfigurationError):
        LivePy(templates=[], secret_key="k", heartbeat_interval=0)
    with pytest.raises(ConfigurationError):
        LivePy(templates=[], secret_key="k", heartbeat_interval=10, heartbeat_timeout=5)
    live = LivePy(templates=[], secret_key="k")
    assert (live.heartbeat_interval, live.heartbeat_timeout) == (15, 30)


async def test_config_carries_heartbeat_interval(serve: ServeFactory) -> None:
    import httpx

    app, _ = make_app(heartbeat_interval=7)
    server = await serve(app)
    async with httpx.AsyncClient() as http:
        html = (await http.get(server.url + "/")).text
    assert '"heartbeat_interval": 7.0' in html
    assert '"transport"' not in html


async def test_slow_action_is_not_silence(serve: ServeFactory) -> None:
    """PONGs sent while an action runs wait unread in the server: that is not a dead client."""
    import httpx

    from tests.protocol_client import snapshots_in

    app, _ = make_app(heartbeat_interval=0.05, heartbeat_timeout=0.2)
    server = await serve(app)
    async with httpx.AsyncClient() as http:
        html = (await http.get(server.url + "/")).text
    cid, snapshot = next((k, v) for k, v in snapshots_in(html).items() if v[0] == "tx_slow")

    async with connect(server.ws_url + "/livepy/ws") as ws:

        async def next_frame() -> list[object]:
            while True:
                frame = msgpack.unpackb(await ws.recv())
                if frame == [c.FRAME_PING]:
                    await ws.send(PONG)
                else:
                    return frame  # type: ignore[no-any-return]

        await ws.send(msgpack.packb([c.FRAME_JOIN, [[cid, snapshot]]]))
        joined = await next_frame()
        assert joined[0] == c.FRAME_JOINED
        await ws.send(msgpack.packb([c.FRAME_CALL, joined[2], 1, {}, [["work", [0.6]]]]))
        reply = await next_frame()  # 0.6 s > heartbeat_timeout: still answered, not closed
        assert reply[0] == c.FRAME_REPLY and reply[3] is not None


async def test_a_busy_server_does_not_drop_clients_whose_pongs_wait_unread(
    serve: ServeFactory,
) -> None:
    """One page's action holds the whole loop longer than the heartbeat timeout (a long
    broadcast burst does the same): the PONGs of every page wait unread meanwhile, and no page
    is dropped for it."""
    import httpx

    from livepy.transport.websocket import LOOP_LAG_GRACE
    from tests.protocol_client import snapshots_in

    app, live = make_app(heartbeat_interval=0.1, heartbeat_timeout=0.2)
    server = await serve(app)
    async with httpx.AsyncClient() as http:
        html = (await http.get(server.url + "/")).text
    cid, snapshot = next((k, v) for k, v in snapshots_in(html).items() if v[0] == "tx_slow")
    async with (
        connect(server.ws_url + "/livepy/ws") as busy,
        connect(server.ws_url + "/livepy/ws") as bystander,
    ):
        frames: asyncio.Queue[list[object]] = asyncio.Queue()

        async def answer_pings(ws: ClientConnection, keep: bool) -> None:
            async for data in ws:
                frame = msgpack.unpackb(data)
                if frame == [c.FRAME_PING]:
                    await ws.send(PONG)
                elif keep:
                    frames.put_nowait(frame)

        answering = [
            asyncio.create_task(answer_pings(busy, True)),
            asyncio.create_task(answer_pings(bystander, False)),
        ]
        await wait_until(lambda: len(live.connections) == 2)
        await busy.send(msgpack.packb([c.FRAME_JOIN, [[cid, snapshot]]]))
        joined = await frames.get()
        assert joined[0] == c.FRAME_JOINED
        hold = LOOP_LAG_GRACE + 0.5  # longer than the timeout and the grace together
        await busy.send(msgpack.packb([c.FRAME_CALL, joined[2], 1, {}, [["hog", [hold]]]]))
        reply = await frames.get()
        assert reply[0] == c.FRAME_REPLY and reply[3] is not None  # the action ran to its end
        after_hold = {conn.id: conn.frames_in for conn in live.connections}
        await wait_until(  # both pages answer PINGs again, and are served
            lambda: (
                len(live.connections) == 2
                and all(
                    conn.frames_in >= after_hold.get(conn.id, 0) + 3 for conn in live.connections
                )
            )
        )
        assert not any(task.done() for task in answering)  # neither was closed
        for task in answering:
            task.cancel()
