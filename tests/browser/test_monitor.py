"""The monitor example in real Chromium: the monitor page follows the app in real time."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from livepy import LivePy
from livepy.demo import load_example
from tests.conftest import ServeFactory, page_app

pytestmark = pytest.mark.browser


async def test_monitor_follows_connections_messages_and_channels(
    browser: Any, serve: ServeFactory
) -> None:
    module = load_example("monitor")
    module.live.monitor.interval = 0.2
    server = await serve(module.app)
    context = await browser.new_context()
    try:
        tab = await context.new_page()
        await tab.goto(server.url + "/")
        await tab.wait_for_function("window.livepy && window.livepy.connected")
        monitor = await context.new_page()
        await monitor.goto(server.url + "/livepy/monitor")
        await monitor.wait_for_function("window.livepy && window.livepy.connected")
        # Two pages connected; the app's channel has one subscriber (the tab).
        await monitor.wait_for_function(
            "Number(document.querySelector('.connections').textContent) >= 2"
        )
        row = "document.querySelector('tr[lp-key=\"monitor-demo\"] .subscribers')"
        await monitor.wait_for_function(f"{row} && {row}.textContent === '1'")
        for _ in range(3):
            await tab.click("text=Ping everyone")
        await monitor.wait_for_function(
            "Number(document.querySelector('.broadcasts').textContent) > 0"
        )
        await monitor.wait_for_function(
            "Number(document.querySelector('.messages').textContent) > 0"
        )
        await tab.close()  # the tab leaves: its channel goes from the list
        await monitor.wait_for_function(f"{row} === null")
    finally:
        await context.close()
        await module.live.monitor.stop()


async def test_an_open_monitor_outlives_its_token(browser: Any, serve: ServeFactory) -> None:
    """The page reloads itself before its token expires, so it keeps getting figures."""
    module = load_example("monitor")
    module.live.monitor.interval = 0.2
    module.live.monitor.token_ttl = 3.0
    assert module.live.monitor.refresh_after() == 2
    server = await serve(module.app)
    context = await browser.new_context()
    try:
        monitor = await context.new_page()
        await monitor.goto(server.url + "/livepy/monitor")
        await monitor.wait_for_function("window.livepy && window.livepy.connected")
        await monitor.evaluate("window.firstLoad = true")
        expired_ms = int((time.time() + 3.5) * 1000)  # the first token's lifetime, and a margin
        # Past the first token's lifetime: a reloaded page (no window.firstLoad), with a new
        # snapshot, whose panel was fed a sample (the connection count is only ever sampled).
        await monitor.wait_for_function(
            "!window.firstLoad && window.livepy && window.livepy.connected"
            " && Number(document.querySelector('.connections').textContent) >= 1",
            timeout=15_000,
        )
        await monitor.wait_for_function(f"Date.now() > {expired_ms}", timeout=15_000)
        # Figures still arrive (a reload shows 0 until its first sample): only a live token's
        # channel is fed, and the first one's no longer is.
        await monitor.evaluate("document.querySelector('.connections').textContent = 'x'")
        await monitor.wait_for_function(
            "Number(document.querySelector('.connections')?.textContent) >= 1", timeout=15_000
        )
    finally:
        await context.close()
        await module.live.monitor.stop()


async def test_monitor_is_refused_without_the_callbacks_consent(serve: ServeFactory) -> None:
    live = LivePy(templates=[], secret_key="k", monitor="/watch", monitor_auth=lambda r: False)
    server = await serve(page_app(live))
    async with httpx.AsyncClient() as http:
        assert (await http.get(server.url + "/watch")).status_code == 403


def test_monitor_needs_a_callback() -> None:
    from livepy.exceptions import ConfigurationError

    with pytest.raises(ConfigurationError, match="monitor_auth"):
        LivePy(templates=[], secret_key="k", monitor="/watch")


async def _page_token(live: LivePy, app: Any) -> str:
    """The token the monitor page hands its panel (read from the panel's snapshot)."""
    import base64
    import re

    import msgpack

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app), base_url="http://test"
    ) as http:
        response = await http.get("/watch", headers={"x-user": "alice"})
    assert response.status_code == 200
    encoded = re.search(r'lp-snapshot="([^"]+)"', response.text)
    assert encoded is not None
    raw = encoded.group(1)
    snapshot = msgpack.unpackb(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    token = snapshot[3]["token"]
    assert isinstance(token, str)
    return token


async def test_a_monitor_token_admits_only_its_user_and_only_for_a_while() -> None:
    """A token seen once is no lasting pass: another user, or the same one later, is refused."""
    live = LivePy(
        templates=[],
        secret_key="k",
        monitor="/watch",
        monitor_auth=lambda request: request.headers.get("x-user") == "alice",
        user_resolver=lambda connection: {"id": connection.headers.get("x-user")},
    )
    assert live.monitor is not None
    try:
        token = await _page_token(live, page_app(live))
    finally:
        await live.monitor.stop()
    channel = f"private-livepy-monitor.{token}"
    authorize = live.broadcaster.authorizer.authorize
    assert (await authorize({"id": "alice"}, channel)).allowed
    # Mallory, whom monitor_auth refuses, copied alice's token from the page.
    assert not (await authorize({"id": "mallory"}, channel)).allowed
    assert not (await authorize(None, channel)).allowed
    # Once token_ttl has passed, the token no longer subscribes; forged or garbled ones never do.
    later = time.time() + live.monitor.token_ttl + 1
    assert not live.monitor.token_valid({"id": "alice"}, token, now=later)
    assert not live.monitor.token_valid({"id": "alice"}, "zz-" + token, now=later)
    assert not live.monitor.token_valid({"id": "alice"}, "nonsense")
