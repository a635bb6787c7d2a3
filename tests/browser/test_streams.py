"""The feed example in real Chromium: a stream appends, prepends and removes in the DOM, and
its entries survive re-renders of the component that do not stream anything."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import OpenExample

pytestmark = pytest.mark.browser


async def texts(page: Any) -> list[str]:
    return list(await page.locator("#entries li span").all_text_contents())


async def wait_count(page: Any, count: int) -> None:
    await page.wait_for_function(f"document.querySelectorAll('#entries li').length === {count}")


async def test_append_prepend_remove_and_survive_rerenders(open_example: OpenExample) -> None:
    page = await open_example("feed")
    assert await texts(page) == ["feed started"]  # rendered inline on the first page
    await page.fill("input[name=draft]", "one")
    await page.click("button[type=submit]")
    await wait_count(page, 2)
    await page.fill("input[name=draft]", "two")
    await page.click("button[type=submit]")
    await wait_count(page, 3)
    await page.fill("input[name=draft]", "pinned")
    await page.click("text=Pin on top")
    await wait_count(page, 4)
    assert await texts(page) == ["pinned", "feed started", "one", "two"]
    await page.evaluate("document.querySelectorAll('#entries li').forEach((li) => li.__kept = 1)")

    # A re-render that streams nothing (typing updates the "typing ..." line) keeps them all.
    await page.fill("input[name=draft]", "just typing")
    await page.wait_for_function(
        "document.querySelector('.total').textContent.includes('just typing')"
    )
    assert await texts(page) == ["pinned", "feed started", "one", "two"]
    assert await page.evaluate(
        "[...document.querySelectorAll('#entries li')].every((li) => li.__kept === 1)"
    )

    # A button inside a streamed item calls its component.
    await page.click("button[aria-label='remove one']")
    await wait_count(page, 3)
    assert await texts(page) == ["pinned", "feed started", "two"]
    await page.click("text=Clear")
    await wait_count(page, 0)
    assert await page.locator(".total").text_content() == "3 sent · typing “just typing”"
    assert await page.evaluate("window.__no_reload") is True
