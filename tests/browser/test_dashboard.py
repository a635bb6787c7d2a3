"""The dashboard example in real Chromium: broadcasts reach every open tab."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from livepy.demo import load_example
from tests.conftest import ServeFactory

pytestmark = pytest.mark.browser


@pytest_asyncio.fixture
async def dashboard(serve: ServeFactory) -> AsyncIterator[Any]:
    module = load_example("dashboard")
    server = await serve(module.app)
    yield server
    if module._ticker is not None:
        module._ticker.cancel()


async def open_tab(browser: Any, url: str) -> Any:
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(url)
    await page.wait_for_function("window.livepy && window.livepy.connected")
    return page


async def test_an_order_in_one_tab_updates_the_other(browser: Any, dashboard: Any) -> None:
    first = await open_tab(browser, dashboard.url + "/")
    second = await open_tab(browser, dashboard.url + "/")
    try:
        before = int(await second.locator(".orders").text_content())
        await first.click("text=Place an order")
        await second.wait_for_function(
            f"Number(document.querySelector('.orders').textContent) > {before}"
        )
        # The ticker pushes too: the visitors figure changes without any click.
        visitors = await second.locator(".visitors").text_content()
        await second.wait_for_function(
            f"document.querySelector('.visitors').textContent !== '{visitors}'", timeout=15000
        )
    finally:
        await first.context.close()
        await second.context.close()
