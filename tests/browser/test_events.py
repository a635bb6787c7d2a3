"""Events between components in real Chromium: dispatch to all, .to, .up from a nested child,
browser events, and the JS API (livepy.find(id).call, livepy.dispatch, livepy.on)."""

from __future__ import annotations

from typing import Any

import pytest

from livepy import Component, LivePy, action, on
from tests.conftest import ServeFactory, page_app

pytestmark = pytest.mark.browser


class BrEvCart(Component):
    template_source = (
        '<div class="cart"><button class="add" lp-click="add">add</button>'
        '<button class="add-to" lp-click="add_to_badge">to badge</button>'
        '<button class="notify" lp-click="notify">notify</button>'
        '<span class="own">{{ own }}</span></div>'
    )
    own: int = 0

    @action
    def add(self) -> None:
        self.dispatch("added", n=1)

    @action
    def add_to_badge(self) -> None:
        self.dispatch("added", n=10).to("br_ev_badge")

    @action
    def notify(self) -> None:
        self.dispatch_browser("notify", message="hi")

    @on("added")
    def added(self, n: int) -> None:
        self.own += n


class BrEvBadge(Component):
    template_source = '<span class="badge">{{ total }}</span>'
    total: int = 0

    @on("added")
    def added(self, n: int) -> None:
        self.total += n


class BrEvParent(Component):
    template_source = (
        '<div class="parent"><b class="picked">{{ picked }}</b>'
        '{{ livepy("br_ev_child", key="child") }}</div>'
    )
    picked: int = 0

    @on("picked")
    def on_picked(self, id: int) -> None:
        self.picked = id


class BrEvChild(Component):
    template_source = (
        '<div class="child"><button class="pick" lp-click="pick(7)">pick</button></div>'
    )

    @action
    def pick(self, id: int) -> None:
        self.dispatch("picked", id=id).up()


class BrEvBystander(Component):
    template_source = '<i class="bystander">{{ heard }}</i>'
    heard: int = 0

    @on("picked")
    def on_picked(self, id: int) -> None:
        self.heard += 1


NAMES = ("br_ev_cart", "br_ev_badge", "br_ev_parent", "br_ev_bystander")


async def _open(serve: ServeFactory, page: Any, *, websocket: bool = True) -> Any:
    live = LivePy(secret_key="k" * 32, websocket=websocket)
    server = await serve(page_app(live, *NAMES, scripts=True))
    await page.goto(server.url + "/")
    await page.wait_for_function(
        "window.livepy && livepy.connected && [...livepy.components.values()].every(c => c.joined)"
    )
    await page.evaluate("window.__marker = 1")
    return page


async def _text(page: Any, selector: str, text: str) -> None:
    await page.wait_for_function(
        "([s, t]) => document.querySelector(s)?.textContent === t", arg=[selector, text]
    )


async def test_dispatch_to_all_and_to_one_component(serve: ServeFactory, page: Any) -> None:
    await _open(serve, page)
    await page.click(".add")
    await _text(page, ".badge", "1")
    await _text(page, ".own", "1")  # the dispatcher listens too
    await page.click(".add-to")
    await _text(page, ".badge", "11")
    assert await page.text_content(".own") == "1"  # .to("br_ev_badge") skipped the cart
    assert await page.evaluate("window.__marker") == 1


async def test_up_reaches_the_parent_only(serve: ServeFactory, page: Any) -> None:
    await _open(serve, page)
    await page.click(".pick")
    await _text(page, ".picked", "7")
    # The parent's reply came after the child's: the bystander's would have come by now.
    await page.click(".add")
    await _text(page, ".badge", "1")
    assert await page.text_content(".bystander") == "0"


async def test_browser_event_reaches_window(serve: ServeFactory, page: Any) -> None:
    await _open(serve, page)
    await page.evaluate(
        "() => { window.__notes = [];"
        " window.addEventListener('notify', (e) => window.__notes.push(e.detail.message)); }"
    )
    await page.click(".notify")
    await page.wait_for_function("window.__notes.length === 1 && __notes[0] === 'hi'")


async def test_js_api_find_call_dispatch_and_on(serve: ServeFactory, page: Any) -> None:
    await _open(serve, page)
    cart_id = await page.get_attribute(".cart", "lp-id")
    effects = await page.evaluate("(id) => livepy.find(id).call('add')", cart_id)
    assert effects == {"dispatch": [{"name": "added", "params": {"n": 1}}]}
    await _text(page, ".badge", "1")
    await page.evaluate(
        "() => { window.__heard = []; livepy.on('added', (p) => window.__heard.push(p.n)); }"
    )
    heard_by = await page.evaluate("livepy.dispatch('added', {n: 5})")
    assert heard_by == 2  # the cart and the badge
    await _text(page, ".badge", "6")
    await page.wait_for_function("window.__heard.join() === '5'")
    await page.click(".add")  # a server dispatch to everyone reaches livepy.on too
    await page.wait_for_function("window.__heard.join() === '5,1'")
    await _text(page, ".badge", "7")


async def test_events_over_the_http_fallback(serve: ServeFactory, page: Any) -> None:
    await _open(serve, page, websocket=False)
    assert await page.evaluate("livepy.transport") == "http"
    await page.click(".add")
    await _text(page, ".badge", "1")
    await _text(page, ".own", "1")
    await page.click(".pick")
    await _text(page, ".picked", "7")
    await page.click(".add-to")
    await _text(page, ".badge", "11")
    assert await page.text_content(".bystander") == "0"
