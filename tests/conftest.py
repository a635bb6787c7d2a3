"""Shared fixtures: a real uvicorn server on a free port and a real headless Chromium.

A browser test skips when Chromium is missing, unless ``LIVEPY_REQUIRE_REAL=1``
(set by ``scripts/test`` and CI), in which case the missing part fails the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import pytest_asyncio
import uvicorn
from hypothesis import settings

# No per-example deadline: CI machines are shared and timing is not what these tests check.
settings.register_profile("livepy", deadline=None)
settings.load_profile("livepy")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def require_real(what: str) -> None:
    """Skip for a missing real part, or fail when the run demands every real part."""
    message = f"{what} is not available on this machine"
    if os.environ.get("LIVEPY_REQUIRE_REAL") == "1":
        pytest.fail(message + " (LIVEPY_REQUIRE_REAL=1 turns this skip into a failure)")
    pytest.skip(message)


# What `livepy serve` runs: Pusher sockets served lean, livepy's own through DirectSendProtocol.
SERVE_WS = "livepy.pusher.lean:PusherWebSocketProtocol"
ASGI_WS = "websockets-sansio"  # plain ASGI, as `uvicorn app:app` serves livepy


class LiveServer:
    """A uvicorn server running an ASGI app inside the test event loop."""

    def __init__(self, app: Any, ws: str | type[asyncio.Protocol] = SERVE_WS) -> None:
        self.app = app
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port: int = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, log_level="warning", lifespan="auto", ws=ws)
        self.server = uvicorn.Server(config)
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> LiveServer:
        self.task = asyncio.get_running_loop().create_task(self.server.serve(sockets=[self.sock]))
        while not self.server.started:
            if self.task.done():
                self.task.result()
            await asyncio.sleep(0.005)
        return self

    async def stop(self) -> None:
        self.server.should_exit = True
        if self.task is not None:
            await asyncio.wait_for(self.task, timeout=10)
        self.sock.close()


ServeFactory = Callable[[Any], Awaitable[LiveServer]]


@contextlib.asynccontextmanager
async def _servers(ws: str) -> AsyncIterator[ServeFactory]:
    servers: list[LiveServer] = []

    async def start(app: Any) -> LiveServer:
        server = await LiveServer(app, ws).start()
        servers.append(server)
        return server

    try:
        yield start
    finally:
        for server in servers:
            await server.stop()


@pytest_asyncio.fixture
async def serve() -> AsyncIterator[ServeFactory]:
    """Start ASGI apps on free ports, served as `livepy serve` serves them; stop them after."""
    async with _servers(SERVE_WS) as start:
        yield start


@pytest_asyncio.fixture(params=["direct", "asgi"])
async def serve_each(request: pytest.FixtureRequest) -> AsyncIterator[ServeFactory]:
    """``serve``, once as `livepy serve` serves the app and once through plain ASGI."""
    async with _servers(SERVE_WS if request.param == "direct" else ASGI_WS) as start:
        yield start


def chromium_missing() -> bool:
    return not (os.path.exists(CHROMIUM) or shutil.which("chromium"))


@pytest_asyncio.fixture(scope="session")
async def browser() -> AsyncIterator[Any]:
    if chromium_missing():
        require_real("Debian's chromium (/usr/bin/chromium)")
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        await browser.close()


@pytest_asyncio.fixture
async def page(browser: Any) -> AsyncIterator[Any]:
    """A fresh page that fails the test on any uncaught JS error."""
    context = await browser.new_context()
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    await context.close()
    assert not errors, f"uncaught JS errors: {errors}"


class RedisServer:
    """A real redis-server on a free port, which a test may stop and start again."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        sock.close()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            "redis-server",
            "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", self.directory, "--loglevel", "warning",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        for _ in range(500):
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                await asyncio.sleep(0.01)  # polling until redis-server listens
                continue
            writer.write(b"PING\r\n")
            pong = await reader.readline()
            writer.close()
            if pong.startswith(b"+PONG"):
                return
        raise RuntimeError("redis-server did not start")

    async def stop(self, sig: int = 15) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(sig)
            await self.process.wait()
        self.process = None


@pytest_asyncio.fixture
async def redis_server(tmp_path: Any) -> AsyncIterator[RedisServer]:
    if shutil.which("redis-server") is None:
        require_real("redis-server")
    server = RedisServer(str(tmp_path))
    await server.start()
    yield server
    await server.stop()


def page_app(live: Any, *components: str, scripts: bool = False) -> Any:
    """A Starlette app with ``live`` installed and a page at / embedding ``components``."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    head = "{{ livepy_scripts() }}" if scripts else ""
    body = "".join("{{ livepy('" + name + "') }}" for name in components)
    page = live.env.from_string(f"<html><head>{head}</head><body>{body}</body></html>")

    async def home(request: Request) -> Response:
        return Response(page.render(request=request), media_type="text/html")

    app = Starlette(routes=[Route("/", home)])
    live.install(app)
    return app
