"""A throttled listener applies every event in order but renders at most once per interval."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from websockets.asyncio.client import connect

from livepy import Component, LivePy, on
from livepy.component import parse_interval
from livepy.protocol import Reply
from tests.conftest import ServeFactory, page_app
from tests.protocol_client import ProtocolClient


class Ticker(Component):
    template_source = "<div>{{ events }} events, last {{ last }}</div>"
    events: int = 0
    last: int = 0
    order_ok: bool = True

    @on("ticks", "Tick", throttle="300ms")
    def tick(self, data: dict[str, Any]) -> None:
        self.order_ok = self.order_ok and data["n"] == self.last + 1
        self.events += 1
        self.last = data["n"]


async def test_a_burst_renders_rarely_and_ends_with_the_latest_state(serve: ServeFactory) -> None:
    live = LivePy(templates=[], secret_key="k")
    app = page_app(live, "ticker")
    server = await serve(app)
    async with connect(server.ws_url + "/livepy/ws") as ws:
        client = ProtocolClient(ws)
        await client.load(server.url + "/")
        await client.join("ticker")
        for n in range(1, 101):
            await live.broadcast("ticks", "Tick", {"n": n})
        pushes = 0
        async with asyncio.timeout(10):
            while "100 events, last 100" not in client.held["ticker"].html:
                assert isinstance(await client.recv(), Reply)
                pushes += 1
        assert pushes <= 3, pushes  # the first event renders at once, the rest in one flush
        assert client.held["ticker"].state["order_ok"] is True
        client.verify("ticker", live.snapshots)


@pytest.mark.parametrize(
    ("text", "seconds"), [("100ms", 0.1), ("2s", 2.0), ("0.5s", 0.5), (3, 3.0)]
)
def test_intervals(text: str | float, seconds: float) -> None:
    assert parse_interval(text) == seconds


@pytest.mark.parametrize("text", ["fast", "10", "-1s", "1m"])
def test_bad_intervals(text: str) -> None:
    with pytest.raises(ValueError, match="throttle"):
        parse_interval(text)
