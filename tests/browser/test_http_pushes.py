"""Broadcast pushes over the HTTP fallback, in real Chromium: with WebSockets off, a broadcast
re-renders the page's components over the Server-Sent Events stream."""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

import pytest

from livepy import Component, LivePy, action, on
from livepy.demo import load_example
from tests.conftest import ServeFactory, page_app

pytestmark = pytest.mark.browser


async def open_http_tab(browser: Any, url: str) -> Any:
    context = await browser.new_context()
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors
    await page.goto(url)
    await page.wait_for_function("window.livepy && window.livepy.connected")
    assert await page.evaluate("window.livepy.transport") == "http"
    # The stream's token arrived and the components were announced to its session.
    await page.wait_for_function("window.livepy._connection.streamRefs.size > 0")
    return page


async def test_a_broadcast_reaches_http_pages(
    browser: Any, serve: ServeFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = load_example("dashboard")
    monkeypatch.setattr(module.live, "websocket", False)
    monkeypatch.setattr(module, "ensure_ticker", lambda: None)  # only our broadcasts
    server = await serve(module.app)
    first = await open_http_tab(browser, server.url + "/")
    second = await open_http_tab(browser, server.url + "/")
    try:
        sockets: list[str] = []
        second.on("websocket", lambda ws: sockets.append(ws.url))
        before = int(await second.locator(".orders").text_content())
        await first.click("text=Place an order")  # an action that broadcasts .to_others()
        await second.wait_for_function(
            f"Number(document.querySelector('.orders').textContent) === {before + 1}"
        )
        await module.live.broadcast("dashboard", "Stats", {"visitors": 4242, "orders": 99})
        for page in (first, second):
            await page.wait_for_function(
                "document.querySelector('.visitors').textContent === '4242'"
            )
        # The pushed state is the page's snapshot now: an action continues from it (the
        # action leaves visitors alone, so a stale snapshot would bring back the old figure).
        await second.click("text=Place an order")
        await second.wait_for_function(
            f"document.querySelector('.orders').textContent === '{before + 2}'"
        )
        assert await second.locator(".visitors").text_content() == "4242"
        assert sockets == [] and first.errors == [] and second.errors == []
    finally:
        await first.context.close()
        await second.context.close()


async def test_chat_over_http_presence_whispers_and_messages(
    browser: Any, serve: ServeFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = load_example("chat")
    monkeypatch.setattr(module.live, "websocket", False)
    server = await serve(module.app)
    ada = await open_http_tab(browser, f"{server.url}/login?name=Ada")
    bob = await open_http_tab(browser, f"{server.url}/login?name=Bob")
    try:
        for page in (ada, bob):  # presence, held by each page's events stream
            await page.wait_for_function(
                "document.querySelector('.online').textContent.includes('2 online: Ada, Bob')"
            )
        # The whisper subscription and the whisper itself ride on the events stream's session.
        await bob.wait_for_function(
            "window.livepy._connection.channelNames.has('presence-chat.lobby')"
        )
        await ada.locator("input[name=draft]").press_sequentially("hi")
        await bob.wait_for_function(
            "document.querySelector('.typing').textContent === 'Ada is typing…'"
        )
        await ada.locator("input[name=draft]").press("Enter")
        for page in (ada, bob):
            await page.wait_for_function(
                "document.querySelector('.messages').textContent.includes('Ada: hi')"
            )
        assert ada.errors == [] and bob.errors == []
    finally:
        await ada.context.close()
        await bob.context.close()


class HttpTally(Component):
    """An action that waits for the test's gate, and a listener of the ``tally`` channel."""

    template_source = (
        '<div><b class="count">{{ count }}</b> <i class="pings">{{ pings }}</i>'
        ' <button lp-click="slow_increment">add</button></div>'
    )
    count: int = 0
    pings: int = 0
    started: ClassVar[asyncio.Event]
    gate: ClassVar[asyncio.Event]

    @action
    async def slow_increment(self) -> None:
        type(self).started.set()
        await type(self).gate.wait()
        self.count += 1

    @on("tally", "Ping")
    def ping(self, data: Any) -> None:
        self.pings += 1


async def test_a_broadcast_during_an_action_in_flight_is_not_lost(
    serve: ServeFactory, page: Any
) -> None:
    HttpTally.started, HttpTally.gate = asyncio.Event(), asyncio.Event()
    live = LivePy(templates=[], secret_key="k", websocket=False)
    server = await serve(page_app(live, "http_tally", scripts=True))
    await page.goto(server.url + "/")
    await page.wait_for_function("window.livepy && window.livepy.connected")
    await page.wait_for_function("window.livepy._connection.streamRefs.size > 0")
    await page.click("text=add")
    await HttpTally.started.wait()  # the action is in flight, from count 0 / pings 0
    await live.broadcast("tally", "Ping", {})
    # The push, computed from the state before the action, reached the page meanwhile.
    await page.wait_for_function(
        "[...window.livepy._connection.held.values()].some((e) => e.heldPush)"
    )
    HttpTally.gate.set()
    both = (
        "document.querySelector('.count').textContent === '{}'"
        " && document.querySelector('.pings').textContent === '{}'"
    )
    await page.wait_for_function(both.format(1, 1))  # the action's and the broadcast's effect
    # The events stream holds the same state: the next action and broadcast build on it.
    await page.click("text=add")
    await page.wait_for_function(both.format(2, 1))
    await live.broadcast("tally", "Ping", {})
    await page.wait_for_function(both.format(2, 2))
