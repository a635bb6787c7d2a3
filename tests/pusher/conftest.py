"""Every Pusher test runs twice: through ASGI (Starlette's WebSocket) and through the lean
uvicorn protocol (``livepy.pusher.lean``), which must behave the same on the wire."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from livepy.pusher.lean import PusherWebSocketProtocol
from tests.conftest import ASGI_WS, LiveServer, ServeFactory
from tests.pusher.node import NodeClient


@pytest_asyncio.fixture(params=["asgi", "lean"])
async def serve(request: pytest.FixtureRequest) -> AsyncIterator[ServeFactory]:
    servers: list[LiveServer] = []

    async def start(app: Any) -> LiveServer:
        server = LiveServer(app, ws=ASGI_WS)
        if request.param == "lean":
            server.server.config.ws = PusherWebSocketProtocol
        servers.append(await server.start())
        return server

    yield start
    for server in servers:
        await server.stop()


@pytest.fixture
async def nodes() -> AsyncIterator[list[NodeClient]]:
    """Node clients a test started, closed after it."""
    started: list[NodeClient] = []
    yield started
    for client in started:
        await client.close()
