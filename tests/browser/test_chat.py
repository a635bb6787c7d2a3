"""The chat example in real Chromium: presence, whispered typing indicators, shared messages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from livepy.demo import load_example
from tests.conftest import LiveServer, ServeFactory

pytestmark = pytest.mark.browser


@pytest_asyncio.fixture
async def chat(serve: ServeFactory) -> AsyncIterator[LiveServer]:
    yield await serve(load_example("chat").app)


async def sign_in(browser: Any, server: LiveServer, name: str) -> Any:
    context = await browser.new_context()
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors
    await page.goto(f"{server.url}/login?name={name}")
    await page.wait_for_function("window.livepy && window.livepy.connected")
    return page


async def test_presence_typing_and_messages(browser: Any, chat: LiveServer) -> None:
    ada = await sign_in(browser, chat, "Ada")
    bob = await sign_in(browser, chat, "Bob")
    try:
        for page in (ada, bob):
            await page.wait_for_function(
                "document.querySelector('.online').textContent.includes('2 online: Ada, Bob')"
            )
        # Typing whispers reach Bob's JS listener, and never come back to Ada.
        await ada.locator("input[name=draft]").press_sequentially("hello bob")
        await bob.wait_for_function(
            "document.querySelector('.typing').textContent === 'Ada is typing…'"
        )
        assert await ada.locator(".typing").text_content() == ""
        # A message is broadcast to everyone, the sender included.
        await ada.locator("input[name=draft]").press("Enter")
        for page in (ada, bob):
            await page.wait_for_function(
                "document.querySelector('.messages').textContent.includes('Ada: hello bob')"
            )
        await bob.context.close()
        await ada.wait_for_function(
            "document.querySelector('.online').textContent.includes('1 online: Ada')"
        )
        assert ada.errors == [] and bob.errors == []
    finally:
        await ada.context.close()
        await bob.context.close()


async def test_a_whisper_on_a_public_channel_is_refused(browser: Any, chat: LiveServer) -> None:
    ada = await sign_in(browser, chat, "Ada")
    try:
        error = await ada.evaluate(
            """() => new Promise((resolve) => {
                const news = window.livepy.channel("news");
                news.error(resolve);
                news.whisper("typing", {});
            })"""
        )
        assert error["code"] == "whisper_refused"
        await ada.wait_for_function("window.livepy.connected")  # not a disconnect
    finally:
        await ada.context.close()
