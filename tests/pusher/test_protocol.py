"""Protocol details checked frame by frame: client events, rate limits, bad frames."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from websockets.asyncio.client import connect

from tests.conftest import LiveServer, ServeFactory
from tests.pusher.node import KEY
from tests.pusher.test_pusher_js import make_app
from tests.pusher.wire import frame, subscribe


@pytest.fixture
async def server(serve: ServeFactory) -> AsyncIterator[LiveServer]:
    app, _ = make_app(client_event_rate=5.0)
    yield await serve(app)


def whisper(channel: str, n: int) -> str:
    return json.dumps({"event": "client-typing", "channel": channel, "data": {"n": n}})


async def test_presence_whisper_carries_user_id_and_is_rate_limited(server: LiveServer) -> None:
    async with (
        connect(f"{server.ws_url}/app/{KEY}") as ada,
        connect(f"{server.ws_url}/app/{KEY}") as bob,
    ):
        await subscribe(ada, "presence-room.1", "ada")
        await subscribe(bob, "presence-room.1", "bob")
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
        await ws.send(json.dumps({"event": "pusher:signin", "data": {}}))
        assert json.loads((await frame(ws))["data"])["code"] == 4200
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
