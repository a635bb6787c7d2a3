"""The chart example in real Chromium: an lp-hook drawing SVG, fed by push_event and lp-poll."""

from __future__ import annotations

import pytest

from tests.browser.conftest import OpenExample

pytestmark = pytest.mark.browser

LOG = "document.getElementById('hook-log').textContent"
DRAWN = "document.getElementById('chart')?.dataset.drawn"


async def test_hook_mounts_and_draws_the_initial_points(open_example: OpenExample) -> None:
    page = await open_example("chart")
    await page.wait_for_function(f"{LOG}.startsWith('mounted')")
    await page.wait_for_function(f"{DRAWN} === '8'")
    assert await page.locator("#chart circle").count() == 8
    assert await page.locator("#chart polyline").count() == 1


async def test_new_server_data_reaches_the_hook(open_example: OpenExample) -> None:
    page = await open_example("chart")
    await page.wait_for_function(f"{DRAWN} === '8'")
    updates_before = await page.evaluate(f"{LOG}.split(' ').filter((n) => n === 'updated').length")
    await page.click("button:text-is('Add a point')")
    # push_event("points", ...) redrew the chart through handleEvent, and updated() ran
    await page.wait_for_function(f"{DRAWN} === '9'")
    await page.wait_for_function(
        f"{LOG}.split(' ').filter((n) => n === 'updated').length > {updates_before}"
    )
    assert await page.locator("#chart circle").count() == 9
    assert await page.text_content(".count") == "9"
    await page.click("button:text-is('Clear')")
    await page.wait_for_function(f"{DRAWN} === '0'")


async def test_push_event_from_the_hook_calls_an_action(open_example: OpenExample) -> None:
    page = await open_example("chart")
    await page.wait_for_function(f"{DRAWN} === '8'")
    box = await page.locator("#chart").bounding_box()
    assert box is not None
    # a click a quarter of the way down is a value of about 75
    await page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 4)
    await page.wait_for_function(f"{DRAWN} === '9'")
    latest = float(await page.text_content(".latest") or "0")
    assert 70 <= latest <= 80


async def test_removing_the_element_destroys_the_hook(open_example: OpenExample) -> None:
    page = await open_example("chart")
    await page.wait_for_function(f"{LOG}.startsWith('mounted')")
    await page.click(".toggle")
    await page.wait_for_function(f"{LOG}.endsWith('destroyed')")
    assert await page.locator("#chart").count() == 0
    await page.click(".toggle")
    await page.wait_for_function(f"{LOG}.endsWith('mounted')")
    await page.wait_for_function(f"{DRAWN} === '8'")


async def test_polling_feeds_the_chart(open_example: OpenExample) -> None:
    page = await open_example("chart")
    await page.wait_for_function(f"{DRAWN} === '8'")
    await page.check(".polling")
    await page.wait_for_function(f"Number({DRAWN}) >= 10", timeout=10_000)
    await page.uncheck(".polling")
    await page.wait_for_function("!document.querySelector('[lp-poll\\\\.1s]')")
