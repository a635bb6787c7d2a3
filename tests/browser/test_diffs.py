"""Render diffs end to end: the real server sends only what changed, and the page keeps focus,
caret, scroll and the text being typed through every update, even when an older reply lands
after newer input."""

from __future__ import annotations

import asyncio
from typing import Any

import msgpack
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from livepy import Component, LivePy, action
from livepy.demo import load_example
from livepy.protocol import constants as c
from tests.conftest import ServeFactory

pytestmark = pytest.mark.browser

DRAFT = "input[name=draft]"
SLOW_S = 0.6


def record_replies(page: Any) -> list[list[Any]]:
    """Every REPLY and JOINED frame the page receives, decoded."""
    frames: list[list[Any]] = []

    def on_frame(payload: Any) -> None:
        if isinstance(payload, bytes):
            frame = msgpack.unpackb(payload, raw=False)
            if frame[0] in (c.FRAME_REPLY, c.FRAME_JOINED):
                frames.append(frame)

    page.on("websocket", lambda ws: ws.on("framereceived", on_frame))
    return frames


async def open_live(page: Any, url: str) -> None:
    await page.goto(url)
    await page.wait_for_function(
        "window.livepy?.connected && [...window.livepy.components.values()].every((c) => c.joined)"
    )


async def preview_shows(page: Any, text: str) -> None:
    await page.wait_for_function(
        "(t) => document.querySelector('.preview').textContent.includes(t)", arg=text
    )


async def test_focus_caret_and_scroll_survive_diff_updates(serve: ServeFactory, page: Any) -> None:
    replies = record_replies(page)
    server = await serve(load_example("todos").app)
    await open_live(page, server.url + "/")
    for n in range(12):
        await page.fill(DRAFT, f"task {n}")
        await page.press(DRAFT, "Enter")
        await page.wait_for_function(f"document.querySelectorAll('.todos li').length === {n + 1}")
    # a scrolling list and a scrolled page; the styles live outside the component's markup
    await page.add_style_tag(
        content=".todos ul { max-height: 90px; overflow: auto } body { min-height: 4000px }"
    )
    list_top = await page.evaluate(
        "() => { const ul = document.querySelector('.todos ul'); ul.scrollTop = 10000; "
        "window.scrollTo(0, 150); return ul.scrollTop; }"
    )
    assert list_top > 0
    # type, move the caret into the middle, type more: each pause sends, each reply morphs
    await page.locator(DRAFT).press_sequentially("hello world")
    await preview_shows(page, "hello world")
    await page.evaluate("document.querySelector('input[name=draft]').setSelectionRange(5, 5)")
    await page.keyboard.type(",")
    await preview_shows(page, "hello, world")
    # a change elsewhere in the component, made without moving the focus
    await page.evaluate("document.querySelector(\"input[aria-label='toggle task 3']\").click()")
    await page.wait_for_function("document.querySelector('.remaining').textContent === '11 left'")
    state = await page.evaluate(
        """() => { const input = document.querySelector('input[name=draft]');
          return { focused: document.activeElement === input, value: input.value,
                   caret: [input.selectionStart, input.selectionEnd],
                   listTop: document.querySelector('.todos ul').scrollTop,
                   pageY: window.scrollY }; }"""
    )
    assert state == {
        "focused": True,
        "value": "hello, world",
        "caret": [6, 6],
        "listTop": list_top,
        "pageY": 150,
    }
    # these updates came as diffs against the html the page holds, not as whole html
    renders = [frame[3] for frame in replies if frame[0] == c.FRAME_REPLY]
    assert renders and all(r is None or isinstance(r, list) for r in renders[-3:])
    assert sum(isinstance(r, list) for r in renders) >= 3
    cached = await page.evaluate("[...window.livepy.components.values()][0].html")
    assert "hello, world" in cached


class SlowSave(Component):
    """A bound .live field, and an action that takes a while (a slow database write)."""

    template_source = """<div class="slow-save">
  <input id="text" lp-model.live="text" value="{{ text }}" autocomplete="off">
  <button id="save" lp-click="save">save</button>
  <p id="echo">{{ text }}</p>
  <p id="saved">{{ saved }}</p>
</div>"""
    text: str = ""
    saved: str = "-"

    @action
    async def save(self) -> None:
        await asyncio.sleep(SLOW_S)
        self.saved = self.text


def slow_app() -> Starlette:
    live = LivePy(templates=[], secret_key="diff-test-key")
    page = live.env.from_string(
        "<html><head>{{ livepy_scripts() }}</head><body>{{ livepy('slow_save') }}</body></html>"
    )

    async def home(request: Request) -> Response:
        return Response(page.render(request=request), media_type="text/html")

    app = Starlette(routes=[Route("/", home)])
    live.install(app)
    return app


# Records the field's value after every DOM change inside the component (so after every morph)
# and after every keystroke: the text on screen must only ever grow while the user types.
WATCH = """() => {
  const input = document.querySelector('#text');
  window.__seen = [];
  const record = () => {
    window.__seen.push(input.value);
    const saved = document.querySelector('#saved').textContent;
    if (saved === 'ab' && window.__whenSaved === undefined) window.__whenSaved = input.value;
  };
  new MutationObserver(record).observe(document.querySelector('.slow-save'),
    { subtree: true, childList: true, characterData: true, attributes: true });
  input.addEventListener('input', record);
}"""


async def test_an_older_reply_never_clobbers_newer_typing(serve: ServeFactory, page: Any) -> None:
    server = await serve(slow_app())
    await open_live(page, server.url + "/")
    await page.evaluate(WATCH)
    text = page.locator("#text")
    await text.press_sequentially("ab")
    await page.wait_for_function("document.querySelector('#echo').textContent === 'ab'")
    # the slow action goes out carrying "ab"; the user clicks back into the field and goes on
    await page.click("#save")
    await page.wait_for_function(
        "[...window.livepy.components.values()][0].busyTargets().has('save')"
    )
    await text.click()
    await page.keyboard.press("End")
    await text.press_sequentially("cdef", delay=60)
    await text.press_sequentially("ghij", delay=60)  # keeps typing as the slow reply lands
    # the slow reply (text "ab", saved "ab") came back and was morphed in...
    await page.wait_for_function("document.querySelector('#saved').textContent === 'ab'")
    # (by then the field held newer text than the reply's "ab": the reply really was older)
    assert len(await page.evaluate("window.__whenSaved")) > 2
    # ...and in the end the server holds exactly what was typed
    await page.wait_for_function(
        "document.querySelector('#echo').textContent === 'abcdefghij'", timeout=10_000
    )
    assert await text.input_value() == "abcdefghij"
    state = await page.evaluate("[...window.livepy.components.values()][0].state")
    assert state == {"text": "abcdefghij", "saved": "ab"}
    seen: list[str] = await page.evaluate("window.__seen")
    typed = "abcdefghij"
    assert all(typed.startswith(value) for value in seen), seen
    lengths = [len(value) for value in seen]
    assert lengths == sorted(lengths), f"the field went back to older text: {seen}"
    # once the focus leaves, a full re-render agrees with what is on screen
    await page.click("#save")
    await page.wait_for_function("document.querySelector('#saved').textContent === 'abcdefghij'")
    assert await text.input_value() == "abcdefghij"
