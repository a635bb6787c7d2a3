"""A small livepy app and helpers shared by the transport tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import msgpack
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from livepy import Component, LivePy, action
from livepy.protocol import constants as c

PING = msgpack.packb([c.FRAME_PING])
PONG = msgpack.packb([c.FRAME_PONG])


class TxCounter(Component):
    template_source = "<div><span>{{ count }}</span></div>"
    count: int = 0

    @action
    def increment(self, by: int = 1) -> None:
        self.count += by


class TxSlow(Component):
    template_source = "<div>{{ done }}</div>"
    done: bool = False

    @action
    async def work(self, seconds: float) -> None:
        await asyncio.sleep(seconds)  # stands in for a slow database call
        self.done = True

    @action
    def hog(self, seconds: float) -> None:
        time.sleep(seconds)  # stands in for CPU-bound work that holds the whole event loop
        self.done = True


def make_app(**options: Any) -> tuple[Starlette, LivePy]:
    """A Starlette app with livepy installed and a page at / with ``tx_counter`` and ``tx_slow``."""
    options.setdefault("secret_key", "transport-test-key")
    live = LivePy(templates=[], **options)
    page = live.env.from_string(
        "<html><head>{{ livepy_scripts() }}</head>"
        "<body>{{ livepy('tx_counter') }}{{ livepy('tx_slow') }}</body></html>"
    )

    async def home(request: Request) -> Response:
        return Response(page.render(request=request), media_type="text/html")

    app = Starlette(routes=[Route("/", home)])
    live.install(app)
    return app, live


async def wait_until(condition: Callable[[], bool], within: float = 5.0) -> None:
    """Wait for ``condition()`` to become true (polling), or fail after ``within`` seconds."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within} s")
        await asyncio.sleep(0.005)


async def pong(ws: ClientConnection) -> None:
    """One PING/PONG round trip: the connection is open and served."""
    await ws.send(PING)
    while True:
        frame = msgpack.unpackb(await ws.recv())
        if frame == [c.FRAME_PONG]:
            return


async def close_code(ws: ClientConnection, within: float = 5.0) -> tuple[int, str]:
    """Read until the server closes the socket; its close code and reason."""
    try:
        async with asyncio.timeout(within):
            while True:
                await ws.recv()
    except ConnectionClosed as exc:
        assert exc.rcvd is not None, "the connection dropped without a close frame"
        return exc.rcvd.code, exc.rcvd.reason
    raise AssertionError("unreachable")
