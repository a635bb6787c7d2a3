"""A client that stops reading is disconnected with 4008 instead of growing server memory."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from livepy import Component, Limits, LivePy, on
from livepy.protocol import Join, JoinItem, encode
from livepy.protocol import constants as c
from tests.conftest import ServeFactory, page_app
from tests.protocol_client import snapshots_in


@pytest.fixture
def serve(serve_each: ServeFactory) -> ServeFactory:
    """Every test here runs as `livepy serve` serves the app and through plain ASGI."""
    return serve_each


class Firehose(Component):
    template_source = "<div>{{ blob }}</div>"
    blob: str = ""

    @on("firehose", "Blob")
    def blob_arrived(self, data: dict[str, Any]) -> None:
        self.blob = data["blob"]


async def test_a_client_that_stops_reading_is_closed_with_4008(serve: ServeFactory) -> None:
    live = LivePy(
        templates=[], secret_key="k", limits=Limits(max_pending_pushes=4), send_timeout=1.0
    )
    app = page_app(live, "firehose")
    server = await serve(app)
    import httpx

    async with httpx.AsyncClient() as http:
        ((cid, wire),) = snapshots_in((await http.get(server.url + "/")).text).items()
    # max_queue=1: the client library stops reading the socket as soon as one frame waits.
    async with connect(
        server.ws_url + "/livepy/ws", max_queue=1, max_size=None, compression=None
    ) as ws:
        await ws.send(encode(Join((JoinItem(cid, wire),))))
        await ws.recv()  # JOINED
        for _ in range(300):  # ~30 MB of pushes, far beyond the socket buffers
            await live.broadcast("firehose", "Blob", {"blob": secrets.token_hex(50_000)})
            if not live.sessions or all(s._overflowed for s in live.sessions):
                break
        async with asyncio.timeout(30):
            while True:
                try:
                    await ws.recv()
                except ConnectionClosed as closed:
                    assert closed.rcvd is not None
                    assert closed.rcvd.code == c.WS_CLOSE_SLOW_CONSUMER
                    break
