"""The todos example in real Chromium: add, toggle, remove, keyed nodes, typing during renders."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import OpenExample

pytestmark = pytest.mark.browser

INPUT = "input[lp-model\\.live=draft]"


async def add(page: Any, text: str, expected_items: int) -> None:
    await page.fill(INPUT, text)
    await page.press(INPUT, "Enter")
    await page.wait_for_function(
        f"document.querySelectorAll('.todos li').length === {expected_items}"
    )


async def test_add_toggle_remove_keep_keyed_nodes(open_example: OpenExample) -> None:
    page = await open_example("todos")
    await add(page, "milk", 1)
    await add(page, "eggs", 2)
    await add(page, "bread", 3)
    assert await page.locator(".todos li span").all_text_contents() == ["milk", "eggs", "bread"]
    # The input is cleared by the server even though it still has focus.
    await page.wait_for_function("document.querySelector('input[name=draft]').value === ''")

    await page.evaluate(
        "document.querySelectorAll('.todos li').forEach((li) => { li.__mark = li.textContent })"
    )
    await page.click("input[aria-label='toggle eggs']")
    await page.wait_for_function(
        "document.querySelector('.todos li[lp-key=\"2\"]').classList.contains('done')"
    )
    assert await page.locator(".remaining").text_content() == "2 left"
    await page.click("button[aria-label='remove milk']")
    await page.wait_for_function("document.querySelectorAll('.todos li').length === 2")
    # The surviving <li> elements are the same DOM nodes as before, not re-created ones.
    marks = await page.evaluate(
        "[...document.querySelectorAll('.todos li')].map((li) => li.__mark ?? null)"
    )
    assert [
        m is not None and m.strip().startswith(t)
        for m, t in zip(marks, ["eggs", "bread"], strict=True)
    ] == [True, True]
    assert await page.locator("input[aria-label='toggle eggs']").is_checked()
    assert await page.locator(".remaining").text_content() == "1 left"
    assert await page.evaluate("window.__no_reload") is True


async def test_typing_while_server_rerenders_loses_nothing(open_example: OpenExample) -> None:
    page = await open_example("todos")
    await page.click(INPUT)
    text = "the quick brown fox jumps over the lazy dog"
    await page.keyboard.type(text, delay=15)
    await page.wait_for_function(
        "document.querySelector('.preview').textContent.includes('(43 characters)')"
    )
    assert await page.input_value(INPUT) == text
    assert await page.evaluate(
        "document.activeElement === document.querySelector('input[name=draft]')"
    )
    caret = await page.evaluate("document.activeElement.selectionStart")
    assert caret == len(text)
