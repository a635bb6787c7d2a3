"""Graceful shutdown: drained sockets get 1012 spread over the drain time, SSE streams end, and
a real ``uvicorn app:app`` process drains on SIGTERM and exits."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
import textwrap
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from livepy.protocol import constants as c
from tests.conftest import LiveServer, ServeFactory
from tests.transport.apps import close_code, make_app, pong, wait_until


async def test_drain_spreads_1012_closes_and_refuses_new_sockets(serve: ServeFactory) -> None:
    app, live = make_app()
    server = await serve(app)
    url = server.ws_url + "/livepy/ws"
    clients = [await connect(url) for _ in range(10)]
    try:
        for ws in clients:
            await pong(ws)

        async def closed_at(ws: object) -> tuple[float, int, str]:
            code, reason = await close_code(ws)  # type: ignore[arg-type]
            return time.monotonic(), code, reason

        waiting = [asyncio.create_task(closed_at(ws)) for ws in clients]
        draining = asyncio.create_task(live.drain(0.4))  # 10 sockets: one close every 40 ms
        await wait_until(lambda: live.connections.draining)
        async with connect(url) as late:  # new sockets are told to go elsewhere
            assert await close_code(late) == (c.WS_CLOSE_SERVICE_RESTART, "server restarting")
        results = await asyncio.gather(*waiting)
        await draining
    finally:
        for ws in clients:
            await ws.close()
    assert {(code, reason) for _, code, reason in results} == {(1012, "server restarting")}
    times = sorted(at for at, _, _ in results)
    assert times[-1] - times[0] >= 0.2, "the closes were not spread over the drain time"
    assert len(live.connections) == 0


async def test_few_connections_are_released_at_once(serve: ServeFactory) -> None:
    app, live = make_app()
    server = await serve(app)
    async with connect(server.ws_url + "/livepy/ws") as ws:
        await pong(ws)
        started = time.monotonic()
        await live.drain(30)  # returns as soon as the only socket is closed
        assert time.monotonic() - started < 5
        assert (await close_code(ws))[0] == c.WS_CLOSE_SERVICE_RESTART


async def test_server_stop_ends_sse_streams(serve: ServeFactory) -> None:
    """uvicorn waits for open responses on shutdown: livepy must end its endless SSE streams."""
    app, live = make_app(heartbeat_interval=30)
    server = LiveServer(app)
    await server.start()
    async with (
        httpx.AsyncClient(timeout=10) as http,
        http.stream("GET", server.url + "/livepy/events") as stream,
    ):
        assert stream.status_code == 200
        await wait_until(lambda: len(live.connections) == 1)
        stopping = asyncio.create_task(server.stop())
        body = b"".join([chunk async for chunk in stream.aiter_bytes()])
        await asyncio.wait_for(stopping, 10)
    assert body.startswith(b": livepy\n\n")
    assert re.search(rb"retry: \d+\n\n$", body)


@pytest_asyncio.fixture
async def uvicorn_process(tmp_path: Path) -> AsyncIterator[tuple[asyncio.subprocess.Process, str]]:
    """``python -m uvicorn app:app`` on a free port, with a livepy app that drains for 1 s."""
    (tmp_path / "drainapp.py").write_text(
        textwrap.dedent(
            """
            import logging
            from starlette.applications import Starlette
            from livepy import LivePy

            logging.basicConfig(level=logging.INFO)

            live = LivePy(templates=[], secret_key="drain-test", drain_seconds=1.0)
            app = Starlette()
            live.install(app)
            """
        )
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "uvicorn", "drainapp:app", "--app-dir", str(tmp_path),
        "--host", "127.0.0.1", "--port", "0", "--log-level", "info",
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    assert process.stderr is not None
    url = ""
    async with asyncio.timeout(20):
        while not url:
            line = (await process.stderr.readline()).decode()
            assert line, "uvicorn exited before it started"
            found = re.search(r"Uvicorn running on (http://127\.0\.0\.1:\d+)", line)
            url = found.group(1) if found else ""
    try:
        yield process, url
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_sigterm_drains_clients_with_1012_then_exits(
    uvicorn_process: tuple[asyncio.subprocess.Process, str],
) -> None:
    process, url = uvicorn_process
    ws_url = url.replace("http://", "ws://") + "/livepy/ws"
    clients = [await connect(ws_url) for _ in range(3)]
    async with (
        httpx.AsyncClient(timeout=10) as http,
        http.stream("GET", url + "/livepy/events") as stream,
    ):
        for ws in clients:
            await pong(ws)
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        codes = await asyncio.gather(*(close_code(ws) for ws in clients))
        body = b"".join([chunk async for chunk in stream.aiter_bytes()])  # ends cleanly
    assert process.stderr is not None
    stderr = (await asyncio.wait_for(process.stderr.read(), 1.0 + 5)).decode()
    returncode = await asyncio.wait_for(process.wait(), 5)
    assert codes == [(c.WS_CLOSE_SERVICE_RESTART, "server restarting")] * 3, stderr
    assert re.search(rb"retry: \d+\n\n$", body), (body, stderr)
    assert time.monotonic() - started < 1.0 + 5, stderr
    assert returncode in (0, -signal.SIGTERM), stderr
    assert "event=drain_start" in stderr and "event=drain_end" in stderr, stderr
    assert "Traceback" not in stderr and "ERROR" not in stderr, stderr
    with pytest.raises(OSError):
        await connect(ws_url, open_timeout=2)


async def test_websocket_false_refuses_the_upgrade(serve: ServeFactory) -> None:
    app, _ = make_app(websocket=False)
    server = await serve(app)
    with pytest.raises(InvalidStatus) as info:
        await connect(server.ws_url + "/livepy/ws")
    assert info.value.response.status_code == 403
    async with httpx.AsyncClient() as http:
        html = (await http.get(server.url + "/")).text
    assert '"transport": "http"' in html


def test_livepy_transport_env_forces_http(monkeypatch: pytest.MonkeyPatch) -> None:
    from livepy import LivePy

    monkeypatch.setenv("LIVEPY_TRANSPORT", "http")
    assert LivePy(templates=[], secret_key="k").websocket is False
    assert LivePy(templates=[], secret_key="k", websocket=True).websocket is True
    monkeypatch.delenv("LIVEPY_TRANSPORT")
    assert LivePy(templates=[], secret_key="k").websocket is True


async def test_install_keeps_the_apps_own_lifespan_and_state(serve: ServeFactory) -> None:
    from contextlib import asynccontextmanager

    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    from livepy import LivePy

    events: list[str] = []

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, str]]:
        events.append("startup")
        yield {"greeting": "hello"}
        events.append("shutdown")

    async def hello(request: Request) -> PlainTextResponse:
        return PlainTextResponse(request.state.greeting)

    app = Starlette(routes=[Route("/", hello)], lifespan=lifespan)
    live = LivePy(templates=[], secret_key="k")
    live.install(app)
    live.install(app)  # twice: the lifespan is wrapped once
    server = LiveServer(app)
    await server.start()
    try:
        async with httpx.AsyncClient() as http:
            assert (await http.get(server.url + "/")).text == "hello"
        assert events == ["startup"]
        assert not live.connections.draining
    finally:
        await server.stop()
    assert events == ["startup", "shutdown"]
    assert live.connections.draining  # stopped: new connections would be refused
