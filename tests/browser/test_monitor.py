"""The monitor example in real Chromium: the monitor page follows the app in real time."""

from __future__ import annotations

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


async def test_monitor_is_refused_without_the_callbacks_consent(serve: ServeFactory) -> None:
    live = LivePy(templates=[], secret_key="k", monitor="/watch", monitor_auth=lambda r: False)
    server = await serve(page_app(live))
    async with httpx.AsyncClient() as http:
        assert (await http.get(server.url + "/watch")).status_code == 403


def test_monitor_needs_a_callback() -> None:
    from livepy.exceptions import ConfigurationError

    with pytest.raises(ConfigurationError, match="monitor_auth"):
        LivePy(templates=[], secret_key="k", monitor="/watch")
