"""The Prometheus endpoint: off by default, protected when on, and counting real traffic."""

from __future__ import annotations

import sys
from typing import Any

import httpx
import msgpack
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.requests import Request
from websockets.asyncio.client import connect

from livepy import Limits, LivePy
from livepy.exceptions import ConfigurationError
from livepy.protocol import constants as c
from tests.conftest import ServeFactory
from tests.transport.apps import close_code, make_app, pong, wait_until

TOKEN = "s3cret-scrape-token"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def value(found: dict[Any, float], name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_off_by_default(serve: ServeFactory) -> None:
    app, live = make_app()
    assert not live.metrics.enabled and live.metrics.registry is None
    server = await serve(app)
    async with httpx.AsyncClient() as http:
        response = await http.get(server.url + "/livepy/metrics")
    assert response.status_code == 404


def test_on_without_auth_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LIVEPY_METRICS_TOKEN", raising=False)
    with pytest.raises(ConfigurationError, match="metrics_auth"):
        LivePy(templates=[], secret_key="k", metrics=True)
    monkeypatch.setenv("LIVEPY_METRICS_TOKEN", "from-env")
    assert LivePy(templates=[], secret_key="k", metrics=True).metrics_auth == "from-env"


async def test_bearer_token(serve: ServeFactory) -> None:
    app, _ = make_app(metrics=True, metrics_auth=TOKEN)
    server = await serve(app)
    url = server.url + "/livepy/metrics"
    async with httpx.AsyncClient() as http:
        missing = await http.get(url)
        wrong = await http.get(url, headers={"Authorization": "Bearer nope"})
        basic = await http.get(url, headers={"Authorization": "Basic " + TOKEN})
        ok = await http.get(url, headers={"Authorization": "Bearer " + TOKEN})
    assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
    assert wrong.status_code == 403
    assert basic.status_code == 401
    assert ok.status_code == 200
    assert ok.headers["content-type"].startswith("text/plain")
    assert "livepy_connections" in ok.text


@pytest.mark.parametrize("is_async", [False, True])
async def test_auth_callback(serve: ServeFactory, is_async: bool) -> None:
    def allowed(request: Request) -> bool:
        return request.headers.get("x-scraper") == "yes"

    async def allowed_async(request: Request) -> bool:
        return allowed(request)

    app, _ = make_app(metrics=True, metrics_auth=allowed_async if is_async else allowed)
    server = await serve(app)
    async with httpx.AsyncClient() as http:
        refused = await http.get(server.url + "/livepy/metrics")
        ok = await http.get(server.url + "/livepy/metrics", headers={"X-Scraper": "yes"})
    assert refused.status_code == 403
    assert ok.status_code == 200


async def test_counters_move_after_a_real_exchange(serve: ServeFactory) -> None:
    app, live = make_app(
        metrics=True, metrics_auth=TOKEN, limits=Limits(max_connections=1, max_frame_bytes=1024)
    )
    server = await serve(app)
    url = server.ws_url + "/livepy/ws"
    async with connect(url) as ws:
        await pong(ws)
        await ws.send(b"\xc1")  # not msgpack: an ERROR frame with code bad_frame
        error = msgpack.unpackb(await ws.recv())
        assert error[0] == c.FRAME_ERROR and error[1] == c.ERR_BAD_FRAME
        async with connect(url) as refused:
            assert (await close_code(refused))[0] == c.WS_CLOSE_TOO_MANY_CONNECTIONS
    await wait_until(lambda: len(live.connections) == 0)
    async with httpx.AsyncClient() as http:
        update = await http.post(
            server.url + "/livepy/update",
            content=msgpack.packb([[c.FRAME_PING]]),
            headers={"X-Livepy": "1"},
        )
        assert update.status_code == 200
        text = (
            await http.get(
                server.url + "/livepy/metrics", headers={"Authorization": f"Bearer {TOKEN}"}
            )
        ).text
    found = samples(text)
    assert value(found, "livepy_connections_opened_total", transport="ws") == 1
    assert value(found, "livepy_connections", transport="ws") == 0
    assert value(found, "livepy_connections_closed_total", transport="ws", code="1000") == 1
    assert value(found, "livepy_frames_received_total", transport="ws") == 2
    assert value(found, "livepy_frames_sent_total", transport="ws") == 2
    assert value(found, "livepy_bytes_received_total", transport="ws") == 2 + 1
    assert value(found, "livepy_bytes_sent_total", transport="ws") > 2
    assert value(found, "livepy_frame_seconds_count", transport="ws") == 2
    assert value(found, "livepy_errors_total", code=c.ERR_BAD_FRAME) == 1
    assert value(found, "livepy_limit_hits_total", limit="max_connections") == 1
    assert value(found, "livepy_frames_received_total", transport="http") == 1
    assert value(found, "livepy_frames_sent_total", transport="http") == 1
    assert value(found, "livepy_http_requests_total", status="200") == 1


def test_render_hook_and_separate_registries() -> None:
    one = LivePy(templates=[], secret_key="k", metrics=True, metrics_auth=TOKEN)
    two = LivePy(templates=[], secret_key="k", metrics=True, metrics_auth=TOKEN)
    one.metrics.observe_render("counter", 0.002)
    first = samples(one.metrics.exposition()[0].decode())
    second = samples(two.metrics.exposition()[0].decode())
    assert value(first, "livepy_render_seconds_count", component="counter") == 1
    assert value(second, "livepy_render_seconds_count", component="counter") == 0


def test_disabled_metrics_never_import_prometheus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "prometheus_client", None)  # any import would fail
    live = LivePy(templates=[], secret_key="k")
    live.metrics.frame_received("ws", 3)
    live.metrics.observe_render("x", 0.1)
    live.metrics.limit_hit("max_connections")
