"""A client that comes back receives the broadcasts it missed, in order and exactly once."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from starlette.applications import Starlette
from websockets.asyncio.client import connect

from livepy import Component, LivePy, on
from livepy.protocol import ErrorFrame, Join, Joined, JoinItem, Reply, encode
from livepy.protocol import constants as c
from tests.conftest import LiveServer, RedisServer, ServeFactory, page_app
from tests.protocol_client import ProtocolClient


class FeedLog(Component):
    template_source = "<div>{{ seen|join(',') }}</div>"
    seen: list[int] = []

    @on("feed", "Item")
    def item(self, data: dict[str, Any]) -> None:
        self.seen.append(data["n"])


def make_app(broker: str) -> tuple[Starlette, LivePy]:
    live = LivePy(templates=[], secret_key="k", broker=broker)
    app = page_app(live, "feed_log")
    return app, live


async def scenario(server: LiveServer, live: LivePy, *, trim: bool = False) -> ProtocolClient:
    async with connect(server.ws_url + "/livepy/ws") as ws:
        client = ProtocolClient(ws)
        await client.load(server.url + "/")
        await client.join("feed_log")
        for n in (1, 2):
            await live.broadcast("feed", "Item", {"n": n})
            async with asyncio.timeout(5):
                assert isinstance(await client.recv(), Reply)
        held = client.held["feed_log"]
    # Offline: these are missed.
    for n in range(3, 6 if not trim else 300):
        await live.broadcast("feed", "Item", {"n": n})
    async with connect(server.ws_url + "/livepy/ws") as ws:
        back = ProtocolClient(ws)
        back.held["feed_log"] = held
        await ws.send(encode(Join((JoinItem(held.cid, held.snapshot),))))
        async with asyncio.timeout(5):
            joined = await back.recv()
            assert isinstance(joined, Joined)
            if trim:
                lost = await back.recv()
                assert isinstance(lost, ErrorFrame) and lost.code == c.ERR_HISTORY_LOST
        await live.broadcast("feed", "Item", {"n": 1000})
        async with asyncio.timeout(5):
            assert isinstance(await back.recv(), Reply)
        back.verify("feed_log", live.snapshots)
        return back


async def test_missed_broadcasts_are_replayed_once(serve: ServeFactory) -> None:
    app, live = make_app("memory://")
    back = await scenario(await serve(app), live)
    assert back.held["feed_log"].state["seen"] == [1, 2, 3, 4, 5, 1000]


async def test_lost_history_is_reported(serve: ServeFactory) -> None:
    app, live = make_app("memory://?history_size=10")
    back = await scenario(await serve(app), live, trim=True)
    assert back.held["feed_log"].state["seen"] == [1, 2, 1000]


@pytest.mark.redis
async def test_recovery_through_redis_history(
    serve: ServeFactory, redis_server: RedisServer
) -> None:
    app, live = make_app(redis_server.url)
    try:
        back = await scenario(await serve(app), live)
        assert back.held["feed_log"].state["seen"] == [1, 2, 3, 4, 5, 1000]
    finally:
        await live.broadcaster.stop()
