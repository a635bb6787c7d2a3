"""The cards example in real Chromium: child components edited in place, the parent follows."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import OpenExample

pytestmark = pytest.mark.browser


async def wait_summary(page: Any, text: str) -> None:
    await page.wait_for_function(
        "(t) => document.querySelector('.summary').textContent.includes(t)", arg=text
    )


async def test_editing_a_card_updates_the_board(open_example: OpenExample) -> None:
    page = await open_example("cards")
    await wait_summary(page, "2 cards, 21 characters: Write the docs · Ship it")
    count = await page.evaluate("document.querySelectorAll('[lp-id]').length")
    assert count == 3  # the board and one component per card

    await page.click("button[aria-label='edit card 2']")
    field = "input[aria-label='title of card 2']"
    await page.wait_for_selector(field)
    await page.fill(field, "")
    await page.click(field)
    await page.keyboard.type("Ship it now", delay=20)
    # The board's summary follows the card as the user types, and the card keeps its input.
    await wait_summary(page, "2 cards, 25 characters: Write the docs · Ship it now")
    assert await page.input_value(field) == "Ship it now"
    await page.press(field, "Enter")
    await page.wait_for_function(
        "document.querySelector('[data-card=\"2\"] .title')?.textContent === 'Ship it now'"
    )
    # The saved card dispatched "saved" up to the board, whose @on("saved") listener counts it.
    await page.wait_for_function(
        "document.querySelector('.saves').textContent === '1 saved, last: card 2'"
    )

    # A parent re-render leaves the cards alone; a new card is a new component.
    await page.click("button[aria-label='edit card 1']")
    await page.wait_for_selector("input[aria-label='title of card 1']")
    await page.click("text=Add a card")
    await wait_summary(page, "3 cards")
    assert await page.locator("input[aria-label='title of card 1']").count() == 1  # still editing
    await page.click("button[aria-label='edit card 3']")
    await page.fill("input[aria-label='title of card 3']", "Third")
    await wait_summary(page, "Write the docs · Ship it now · Third")
    await page.click(".remove-last")
    await wait_summary(page, "2 cards")
    assert await page.locator("[data-card]").count() == 2
    assert await page.evaluate("window.__no_reload") is True
