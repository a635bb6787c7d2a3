"""The notes example in real Chromium: lp-init, lp-dirty, lp-keydown, lp-confirm, lp-transition,
lp-loading with lp-target, lp-offline, a lazy component fed by events, and the debug overlay."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from livepy.demo import load_example
from tests.browser.conftest import OpenExample

pytestmark = pytest.mark.browser

NOTES = "li[lp-key]:not([aria-hidden])"  # a deleted note's fading copy is aria-hidden
DRAFT = "textarea[name=draft]"


async def open_notes(open_example: OpenExample) -> Any:
    page = await open_example("notes")
    # lp-init loaded the notes, and the lazy stats component mounted and heard about them
    await page.wait_for_function(f"document.querySelectorAll('{NOTES}').length === 2")
    await page.wait_for_function("document.querySelector('.note-count')?.textContent === '2'")
    return page


async def test_lazy_placeholder_then_content(open_example: OpenExample, serve: Any) -> None:
    server = await serve(load_example("notes").app)
    async with httpx.AsyncClient() as http:
        html = (await http.get(server.url + "/")).text
    assert "Counting…" in html and "note-count" not in html  # the placeholder, not mount()
    assert "Loading notes…" in html and "Buy tea" not in html  # lp-init has not run yet
    page = await open_notes(open_example)
    assert await page.text_content(".word-count") == "7"
    assert await page.locator(".loading").count() == 0


async def test_dirty_draft_and_keyboard_shortcuts(open_example: OpenExample) -> None:
    page = await open_notes(open_example)
    assert await page.is_hidden(".dirty")
    await page.click(DRAFT)
    await page.keyboard.type("Water the plants")
    # lp-model is deferred: nothing is sent yet, so the draft is dirty
    await page.wait_for_selector(".dirty", state="visible")
    assert "unsaved" in (await page.get_attribute(DRAFT, "class") or "")
    await page.keyboard.press("Control+Enter")  # lp-keydown.ctrl.enter="save"
    await page.wait_for_function(f"document.querySelectorAll('{NOTES}').length === 3")
    await page.wait_for_selector(".saved", state="visible")  # the lp-transition notice
    await page.wait_for_selector(".dirty", state="hidden")
    assert await page.input_value(DRAFT) == ""
    await page.wait_for_function("document.querySelector('.note-count').textContent === '3'")
    await page.keyboard.type("never mind")
    await page.keyboard.press("Escape")  # lp-keydown.escape="clear"
    await page.wait_for_function(f"document.querySelector('{DRAFT}').value === ''")
    await page.wait_for_selector(".dirty", state="hidden")
    assert await page.locator(NOTES).count() == 3


async def test_confirm_before_delete(open_example: OpenExample) -> None:
    page = await open_notes(open_example)
    page.once("dialog", lambda dialog: dialog.dismiss())
    await page.click("button[aria-label='delete Buy tea']")
    page.once("dialog", lambda dialog: dialog.accept())
    await page.click("button[aria-label='delete Call Ada about the launch']")
    await page.wait_for_function("document.querySelector('.note-count').textContent === '1'")
    remaining = await page.locator(NOTES).all_text_contents()
    assert len(remaining) == 1 and "Buy tea" in remaining[0]  # the dismissed delete sent nothing


async def test_the_debug_overlay_shows_the_traceback(open_example: OpenExample) -> None:
    page = await open_notes(open_example)
    await page.click("button.fail")
    overlay = page.get_by_text("failed on purpose")
    await overlay.first.wait_for()
    await page.keyboard.press("Escape")
    await overlay.first.wait_for(state="detached")
    # the page keeps working
    await page.click(DRAFT)
    await page.keyboard.type("still here")
    await page.keyboard.press("Control+Enter")
    await page.wait_for_function(f"document.querySelectorAll('{NOTES}').length === 3")


async def test_offline_banner_follows_the_socket(open_example: OpenExample, page: Any) -> None:
    # keep a handle on the runtime's socket, so that the test can drop it
    await page.add_init_script(
        """(() => {
          const Native = window.WebSocket;
          window.__sockets = [];
          window.WebSocket = class extends Native {
            constructor(...args) { super(...args); window.__sockets.push(this); }
          };
        })()"""
    )
    await open_notes(open_example)
    assert await page.is_hidden(".offline")
    await page.evaluate("window.__sockets.at(-1).close()")
    await page.wait_for_selector(".offline", state="visible")
    await page.wait_for_selector(".offline", state="hidden")  # reconnected by itself
    await page.wait_for_function("window.livepy.connected")
