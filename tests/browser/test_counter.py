"""The counter example in real Chromium: clicks, arguments, and lp-loading."""

from __future__ import annotations

import pytest

from tests.browser.conftest import OpenExample

pytestmark = pytest.mark.browser


async def test_clicks_update_the_count_without_reload(open_example: OpenExample) -> None:
    page = await open_example("counter")
    count = page.locator(".count")
    assert await count.text_content() == "3"
    await page.click("button[aria-label=increment]")
    await page.wait_for_function("document.querySelector('.count').textContent === '4'")
    await page.click("text=+5")
    await page.wait_for_function("document.querySelector('.count').textContent === '9'")
    await page.click("button[aria-label=decrement]")
    await page.wait_for_function("document.querySelector('.count').textContent === '8'")
    assert await page.evaluate("window.__no_reload") is True


async def test_rapid_clicks_are_all_applied_in_order(open_example: OpenExample) -> None:
    page = await open_example("counter")
    button = page.locator("button[aria-label=increment]")
    for _ in range(10):
        await button.click()
    await page.wait_for_function("document.querySelector('.count').textContent === '13'")


async def test_loading_indicator_shows_while_in_flight(open_example: OpenExample) -> None:
    page = await open_example("counter")
    saving = page.locator(".saving")
    assert not await saving.is_visible()
    await page.click("text=+1 slowly")
    await saving.wait_for(state="visible")
    await page.wait_for_function("document.querySelector('.count').textContent === '4'")
    await saving.wait_for(state="hidden")
