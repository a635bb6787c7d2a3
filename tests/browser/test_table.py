"""The table example in real Chromium: debounced search, sort, pages, and the URL bound to them."""

from __future__ import annotations

from typing import Any

import pytest

from livepy.demo import load_example
from tests.conftest import ServeFactory

pytestmark = pytest.mark.browser

SEARCH = "input[name=search]"


async def open_table(serve: ServeFactory, page: Any, query: str = "") -> str:
    server = await serve(load_example("table").app)
    await page.goto(server.url + "/" + query)
    await page.wait_for_function("window.livepy && window.livepy.connected")
    await page.evaluate("window.__no_reload = true")
    return server.url


async def wait_text(page: Any, selector: str, text: str) -> None:
    await page.wait_for_function(
        "([s, t]) => document.querySelector(s)?.textContent.includes(t)", arg=[selector, text]
    )


async def wait_query(page: Any, query: str) -> None:
    await page.wait_for_function("(q) => location.search === q", arg=query)


async def first_cell(page: Any) -> str:
    text: str = await page.locator("tbody tr td").first.text_content()
    return text


async def test_search_sort_and_pages_mirror_the_url(serve: ServeFactory, page: Any) -> None:
    await open_table(serve, page)
    await wait_text(page, ".page", "Page 1 of 20")
    assert await page.evaluate("location.search") == ""  # defaults stay out of the URL

    await page.click("button[aria-label='next page']")
    await wait_text(page, ".page", "Page 2 of 20")
    await wait_query(page, "?page=2")
    await page.click("button.sort-age")
    await wait_query(page, "?sort=age")  # a new sort starts on page 1, which is the default
    await page.click("button.sort-age")
    await wait_query(page, "?sort=age&dir=desc")
    assert int(await page.locator("tbody tr td").nth(2).text_content()) >= 80

    # The search box is debounced: typing a word sends one update, and the URL follows.
    await page.click(SEARCH)
    await page.keyboard.type("Oslo", delay=20)
    await wait_query(page, "?sort=age&dir=desc&q=Oslo")
    await wait_text(page, ".summary", "matching “Oslo”")
    cities = await page.locator("tbody tr td:nth-child(2)").all_text_contents()
    assert cities and set(cities) == {"Oslo"}
    assert await page.input_value(SEARCH) == "Oslo"

    # Back and forward restore the state each URL describes, without a reload.
    await page.go_back()
    await wait_query(page, "?sort=age")  # the search replaced its entry, sorts pushed theirs
    await wait_text(page, "thead", "Age ▲")
    await page.wait_for_function("document.querySelector('input[name=search]').value === ''")
    await page.go_back()
    await wait_query(page, "?page=2")
    await wait_text(page, ".page", "Page 2 of 20")
    await wait_text(page, "thead", "Name ▲")
    await page.go_forward()
    await wait_query(page, "?sort=age")
    await wait_text(page, "thead", "Age ▲")
    await wait_text(page, ".page", "Page 1 of 20")
    assert await page.evaluate("window.__no_reload") is True


async def test_reload_keeps_the_state_and_a_bad_value_is_dropped(
    serve: ServeFactory, page: Any
) -> None:
    url = await open_table(serve, page, "?q=lima&sort=city&dir=desc&page=2")
    await wait_text(page, ".summary", "matching “lima”")
    await wait_text(page, "thead", "City ▼")
    await wait_text(page, ".page", "Page 2 of")
    assert await page.input_value(SEARCH) == "lima"
    await page.reload()
    await page.wait_for_function("window.livepy && window.livepy.connected")
    await wait_text(page, ".page", "Page 2 of")
    assert await page.input_value(SEARCH) == "lima"

    await page.goto(url + "/?page=oops&sort=height&keep=me")
    await page.wait_for_function("window.livepy && window.livepy.connected")
    await wait_text(page, ".page", "Page 1 of 20")
    await wait_query(page, "?keep=me")  # bad values tidied away, foreign keys kept
