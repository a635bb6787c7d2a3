"""Protocol details checked frame by frame: client events, rate limits, bad frames, signin,
heartbeat and subscription counts."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from websockets.asyncio.client import connect

from livepy.pusher import lean
from livepy.pusher.lean import PusherWebSocketProtocol
from livepy.pusher.signing import user_auth
from tests.conftest import LiveServer, ServeFactory
from tests.pusher.node import KEY, SECRET
from tests.pusher.test_pusher_js import make_app
from tests.pusher.wire import frame, presence_pair, subscribe


@pytest.fixture
async def server(serve: ServeFactory) -> AsyncIterator[LiveServer]:
    app, _ = make_app(client_event_rate=5.0)
    yield await serve(app)


def whisper(channel: str, n: int) -> str:
    return json.dumps({"event": "client-typing", "channel": channel, "data": {"n": n}})


async def test_presence_whisper_carries_user_id_and_is_rate_limited(server: LiveServer) -> None:
    async with presence_pair(server.ws_url) as (ada, bob):
        assert (await frame(ada))["event"] == "pusher_internal:member_added"
        await ada.send(whisper("presence-room.1", 0))
        assert await frame(bob) == {
            "event": "client-typing",
            "channel": "presence-room.1",
            "data": {"n": 0},
            "user_id": "ada",
        }
        for n in range(1, 10):  # a burst over the 5 per second allowed
            await ada.send(whisper("presence-room.1", n))
        refused = await frame(ada)
        assert refused["event"] == "pusher:error"
        assert json.loads(refused["data"])["code"] == 4301
        received = [(await frame(bob))["data"]["n"] for _ in range(4)]
        assert received == [1, 2, 3, 4]


async def test_whisper_needs_membership(server: LiveServer) -> None:
    async with connect(f"{server.ws_url}/app/{KEY}") as ws:
        await frame(ws)
        await ws.send(whisper("private-orders.1", 0))
        error = await frame(ws)
        assert json.loads(error["data"])["code"] == 4009


async def test_bad_frame_is_4200_and_the_socket_stays(server: LiveServer) -> None:
    async with connect(f"{server.ws_url}/app/{KEY}") as ws:
        await frame(ws)
        await ws.send("not json")
        assert json.loads((await frame(ws))["data"])["code"] == 4200
        await ws.send(json.dumps({"event": "pusher:nonsense", "data": {}}))
        assert json.loads((await frame(ws))["data"])["code"] == 4200
        await ws.send(json.dumps({"event": "pusher:signin", "data": {"auth": "k:0"}}))
        assert json.loads((await frame(ws))["data"])["code"] == 4009  # unsigned user_data
        await ws.send(json.dumps({"event": "pusher:ping", "data": {}}))
        assert (await frame(ws))["event"] == "pusher:pong"


async def test_cache_channel_replays_the_last_event(serve: ServeFactory) -> None:
    app, live = make_app()
    server = await serve(app)
    async with connect(f"{server.ws_url}/app/{KEY}") as first:
        await subscribe(first, "cache-prices")
        assert await frame(first) == {"event": "pusher:cache_miss", "channel": "cache-prices"}
        await live.broadcast("cache-prices", "Price", {"p": 1})
        await live.broadcast("cache-prices", "Price", {"p": 2})
        assert [(await frame(first))["data"] for _ in range(2)] == ['{"p": 1}', '{"p": 2}']
        async with connect(f"{server.ws_url}/app/{KEY}") as late:
            await subscribe(late, "cache-prices")
            assert await frame(late) == {
                "event": "Price",
                "channel": "cache-prices",
                "data": '{"p": 2}',
            }


async def test_signin_and_the_user_channel(server: LiveServer) -> None:
    async with httpx.AsyncClient() as http, connect(f"{server.ws_url}/app/{KEY}") as ws:
        socket_id = json.loads((await frame(ws))["data"])["socket_id"]
        refused = await http.post(
            server.url + "/broadcasting/user-auth", data={"socket_id": socket_id}
        )
        assert refused.status_code == 403  # no user on the request
        answer = (
            await http.post(
                server.url + "/broadcasting/user-auth",
                data={"socket_id": socket_id},
                headers={"x-user": "ada"},
            )
        ).json()
        assert answer["auth"] == user_auth(KEY, SECRET, socket_id, answer["user_data"])
        other = {"event": "pusher:subscribe", "data": {"channel": "#server-to-user-ada"}}
        await ws.send(json.dumps(other))  # not signed in yet
        error = await frame(ws)
        assert error["event"] == "pusher:subscription_error"
        assert json.loads(error["data"])["status"] == 403
        assert json.loads((await frame(ws))["data"])["code"] == 4009
        await ws.send(json.dumps({"event": "pusher:signin", "data": answer}))
        success = await frame(ws)
        assert success["event"] == "pusher:signin_success"
        assert json.loads(json.loads(success["data"])["user_data"]) == {"id": "ada"}
        await ws.send(json.dumps(other))
        assert (await frame(ws))["event"] == "pusher_internal:subscription_succeeded"
        mine = {"event": "pusher:subscribe", "data": {"channel": "#server-to-user-bob"}}
        await ws.send(json.dumps(mine))
        assert (await frame(ws))["event"] == "pusher:subscription_error"


async def test_client_event_policies(serve: ServeFactory) -> None:
    for policy, expected in (("none", 4301), ("all", None)):
        app, _ = make_app(client_events=policy)
        server = await serve(app)
        async with (
            connect(f"{server.ws_url}/app/{KEY}") as sender,
            connect(f"{server.ws_url}/app/{KEY}") as member,
        ):
            await frame(sender)  # never subscribed
            await subscribe(member, "presence-room.1", "bob")
            await sender.send(whisper("presence-room.1", 1))
            if expected is None:  # "all": a non-member may whisper
                assert (await frame(member))["data"] == {"n": 1}
            else:
                assert json.loads((await frame(sender))["data"])["code"] == expected


async def test_heartbeat_pings_then_closes_4201(serve: ServeFactory) -> None:
    app, live = make_app(activity_timeout=1)
    assert live.pusher is not None
    live.pusher.pong_timeout = 1.0
    server = await serve(app)
    async with connect(f"{server.ws_url}/app/{KEY}") as ws:
        await frame(ws)
        async with asyncio.timeout(5):
            assert json.loads(await ws.recv())["event"] == "pusher:ping"
            await ws.send(json.dumps({"event": "pusher:pong", "data": {}}))
            assert json.loads(await ws.recv())["event"] == "pusher:ping"  # answered: pinged again
            error = json.loads(await ws.recv())  # not answered this time
            assert json.loads(error["data"])["code"] == 4201
            await ws.wait_closed()
        assert ws.close_code == 4201


async def test_subscription_count_only_when_enabled(serve: ServeFactory) -> None:
    app, live = make_app()
    server = await serve(app)
    async with connect(f"{server.ws_url}/app/{KEY}") as ws:
        await subscribe(ws, "news")
        await live.broadcast("news", "After", {})
        assert (await frame(ws))["event"] == "After"  # no subscription_count before it
    app, _ = make_app(subscription_count=True)
    server = await serve(app)
    async with connect(f"{server.ws_url}/app/{KEY}") as ws:
        await subscribe(ws, "news")
        counted = await frame(ws)
        assert counted["event"] == "pusher_internal:subscription_count"
        assert json.loads(counted["data"]) == {"subscription_count": 1}


async def test_lean_protocol_counts_control_frame_pings() -> None:
    """Only the lean protocol sees WebSocket pings: a client sending them is never pinged.
    Other WebSockets of the app (livepy's own) still go through ASGI."""
    app, _ = make_app(activity_timeout=1)
    server = LiveServer(app)
    server.server.config.ws = PusherWebSocketProtocol
    await server.start()
    try:
        async with connect(f"{server.ws_url}/app/{KEY}", ping_interval=0.3) as ws:
            await subscribe(ws, "news")
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(2.5):  # over 2 x activity_timeout of frame silence
                    await ws.recv()
        async with connect(server.ws_url + "/livepy/ws") as livepy_socket:
            await livepy_socket.send(b"\x00")  # not a Pusher frame: the ASGI endpoint answers
            async with asyncio.timeout(5):
                await livepy_socket.recv()
    finally:
        await server.stop()


async def test_lean_protocol_closes_a_client_that_stopped_reading(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Unsent output is bounded: past MAX_WRITE_BUFFER the socket is closed (4100), and
    dropped CLOSE_TIMEOUT later when the client does not answer the close."""
    monkeypatch.setattr(lean, "MAX_WRITE_BUFFER", 256 * 1024)
    monkeypatch.setattr(lean, "CLOSE_TIMEOUT", 0.5)
    app, live = make_app()
    assert live.pusher is not None
    server = LiveServer(app)
    server.server.config.ws = PusherWebSocketProtocol
    await server.start()
    try:
        # max_queue=1: the client stops reading its socket once one frame waits unread.
        async with connect(f"{server.ws_url}/app/{KEY}", max_queue=1, close_timeout=1) as ws:
            await subscribe(ws, "news")
            sockets = live.pusher.connections["1"]
            assert len(sockets) == 1
            async with asyncio.timeout(20):
                while sockets:  # each event is 9 KB; the kernel buffers fill, then ours
                    await live.broadcast("news", "Big", {"pad": "x" * 9000})
                    await asyncio.sleep(0)  # let the loop run the transport and close timer
    finally:
        await server.stop()
