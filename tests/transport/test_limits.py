"""Connection limits per process and per client IP, over real sockets: 4429, logs, slot reuse."""

from __future__ import annotations

import logging

import httpx
import pytest
from websockets.asyncio.client import connect

from livepy import Limits, LivePy
from livepy.protocol import constants as c
from livepy.transport.connections import Connection, ConnectionRegistry
from tests.conftest import ServeFactory
from tests.transport.apps import close_code, make_app, pong, wait_until


@pytest.fixture
def serve(serve_each: ServeFactory) -> ServeFactory:
    """Every test here runs as `livepy serve` serves the app and through plain ASGI."""
    return serve_each


async def test_per_process_limit_refuses_with_4429_and_frees_slots(
    serve: ServeFactory, caplog: pytest.LogCaptureFixture
) -> None:
    app, live = make_app(limits=Limits(max_connections=2))
    server = await serve(app)
    url = server.ws_url + "/livepy/ws"
    caplog.set_level(logging.INFO, logger="livepy.transport")
    async with connect(url) as first:
        async with connect(url) as second:
            await pong(first)
            await pong(second)
            async with connect(url) as third:
                code, reason = await close_code(third)
            assert code == c.WS_CLOSE_TOO_MANY_CONNECTIONS
            assert "too many connections" in reason
            hits = [r for r in caplog.records if getattr(r, "event", None) == "limit_hit"]
            assert len(hits) == 1
            assert hits[0].limit == "max_connections"  # type: ignore[attr-defined]
            assert hits[0].getMessage().startswith("event=limit_hit transport=ws client=127.0.0.1:")
            assert "limit=max_connections code=4429" in hits[0].getMessage()
        await wait_until(lambda: len(live.connections) == 1)
        async with connect(url) as again:  # the freed slot is usable
            await pong(again)
            await pong(first)


async def test_per_ip_limit(serve: ServeFactory) -> None:
    app, live = make_app(limits=Limits(max_connections_per_ip=1))
    server = await serve(app)
    url = server.ws_url + "/livepy/ws"
    async with connect(url) as first:
        await pong(first)
        async with connect(url) as second:
            code, reason = await close_code(second)
        assert code == c.WS_CLOSE_TOO_MANY_CONNECTIONS
        assert "from this address" in reason
        # An SSE stream is a connection too.
        async with httpx.AsyncClient() as http:
            response = await http.get(server.url + "/livepy/events")
        assert response.status_code == 429
        assert response.headers["x-livepy-error"] == "too_many_connections"
        assert int(response.headers["retry-after"]) >= 5
    await wait_until(lambda: len(live.connections) == 0)
    async with connect(url) as third:
        await pong(third)


def test_registry_counts_each_ip_separately() -> None:
    registry = ConnectionRegistry(Limits(max_connections=3, max_connections_per_ip=2))
    a1, a2, b1 = (Connection("ws", ip, ip + ":1") for ip in ("10.0.0.1", "10.0.0.1", "10.0.0.2"))
    for conn in (a1, a2):
        assert registry.refusal(conn.ip) is None
        registry.add(conn)
    refusal = registry.refusal("10.0.0.1")
    assert refusal is not None and refusal.reason == "max_connections_per_ip"
    assert registry.refusal("10.0.0.2") is None
    registry.add(b1)
    refusal = registry.refusal("10.0.0.3")
    assert refusal is not None and refusal.reason == "max_connections"
    assert refusal.code == c.WS_CLOSE_TOO_MANY_CONNECTIONS and refusal.http_status == 429
    registry.discard(a1)
    registry.discard(a1)  # twice is harmless
    assert registry.count("10.0.0.1") == 1 and len(registry) == 2
    assert registry.refusal("10.0.0.1") is None
    registry.draining = True
    refusal = registry.refusal("10.0.0.9")
    assert refusal is not None and refusal.code == c.WS_CLOSE_SERVICE_RESTART
    assert not refusal.is_limit


def test_unlimited_when_none() -> None:
    registry = ConnectionRegistry(Limits(max_connections=None))
    for i in range(50):
        registry.add(Connection("ws", "1.1.1.1", f"1.1.1.1:{i}"))
    assert registry.refusal("1.1.1.1") is None


def test_defaults() -> None:
    live = LivePy(templates=[], secret_key="k")
    assert live.limits.max_connections == 10_000
    assert live.limits.max_connections_per_ip is None
