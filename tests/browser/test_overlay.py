"""Server exceptions in the page: a dismissible traceback overlay in debug mode, and in
production a generic message with no overlay and no server detail."""

from __future__ import annotations

from typing import Any

import pytest

from livepy import Component, LivePy, action
from tests.conftest import ServeFactory, page_app

pytestmark = pytest.mark.browser


class Exploding(Component):
    template_source = """<div>
      <span class="n">{{ n }}</span>
      <button id="boom" lp-click="boom">boom</button>
      <button id="inc" lp-click="inc">inc</button>
    </div>"""
    n: int = 0

    @action
    def boom(self) -> None:
        raise RuntimeError("the secret database password is hunter2")

    @action
    def inc(self) -> None:
        self.n += 1


RECORD_ERRORS = """() => {
  window.__errors = [];
  window.addEventListener("lp:error", (event) => window.__errors.push(event.detail));
}"""


async def open_with(serve: ServeFactory, page: Any, *, debug: bool) -> Any:
    live = LivePy(templates=[], secret_key="o" * 32, debug=debug)
    server = await serve(page_app(live, "exploding", scripts=True))
    await page.goto(server.url + "/")
    await page.wait_for_function("window.livepy && window.livepy.connected")
    await page.evaluate(RECORD_ERRORS)
    return page


async def test_debug_shows_the_traceback_in_a_dismissible_overlay(
    serve: ServeFactory, page: Any
) -> None:
    await open_with(serve, page, debug=True)
    await page.click("#boom")
    overlay = page.locator("#livepy-error-overlay")
    await overlay.wait_for()
    text = await overlay.inner_text()
    assert "component_error" in text
    assert "Traceback (most recent call last)" in text
    assert "in boom" in text and "hunter2" in text
    await page.keyboard.press("Escape")
    await overlay.wait_for(state="detached")
    # the page keeps working
    await page.click("#inc")
    await page.wait_for_function("document.querySelector('.n').textContent === '1'")
    await page.click("#boom")
    await overlay.wait_for()
    await page.click("[data-lp-dismiss]")
    await overlay.wait_for(state="detached")


async def test_production_shows_a_generic_message(serve: ServeFactory, page: Any) -> None:
    await open_with(serve, page, debug=False)
    await page.click("#boom")
    await page.wait_for_function("window.__errors.length === 1")
    error = (await page.evaluate("window.__errors"))[0]
    assert error["code"] == "component_error"
    assert "RuntimeError" in error["message"]
    assert "hunter2" not in error["message"]
    assert await page.locator("#livepy-error-overlay").count() == 0
    await page.click("#inc")
    await page.wait_for_function("document.querySelector('.n').textContent === '1'")
