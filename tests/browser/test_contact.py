"""The contact example in real Chromium: validation messages appear and go as the user types."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import OpenExample

pytestmark = pytest.mark.browser


def error(field: str) -> str:
    return f".error[data-for={field}]"


async def wait_error(page: Any, field: str, text: str | None) -> None:
    """Wait until ``field``'s message reads ``text`` (None: until it is gone)."""
    await page.wait_for_function(
        "([s, t]) => { const el = document.querySelector(s);"
        " return t === null ? el === null : el !== null && el.textContent.includes(t); }",
        arg=[error(field), text],
    )


async def test_errors_follow_typing_and_submit_succeeds(open_example: OpenExample) -> None:
    page = await open_example("contact")
    await page.click("#contact-email")
    await page.keyboard.type("ann@", delay=20)
    await wait_error(page, "email", "That does not look like an email address.")
    assert await page.locator(error("name")).count() == 0  # only the field typed in is checked
    assert "invalid" in (await page.get_attribute("#contact-email", "class") or "")
    await page.keyboard.type("example.org", delay=20)
    await wait_error(page, "email", None)
    assert await page.input_value("#contact-email") == "ann@example.org"  # nothing lost

    await page.fill("#contact-message", "short")
    await wait_error(page, "message", "Please write between 10 and 2000 characters.")

    # Submitting validates every field; what was typed stays.
    await page.click("button[type=submit]")
    await wait_error(page, "name", "The name field is required.")
    assert await page.input_value("#contact-message") == "short"
    await page.fill("#contact-name", "Ann")
    await wait_error(page, "name", None)
    await page.fill("#contact-message", "Hello there, livepy!")
    await wait_error(page, "message", None)

    # Success flashes a message and redirects with navigate=True: the thanks page is swapped in
    # without a reload and shows the message once.
    await page.click("button[type=submit]")
    await page.wait_for_selector(".flash.success")
    assert page.url.endswith("/thanks")
    text = await page.text_content(".flash.success")
    assert text == "Thanks! We will answer you at ann@example.org."
    assert await page.evaluate("window.__no_reload") is True
    assert "livepy_flash" not in await page.evaluate("document.cookie")
    await page.click("text=Send another message")
    await page.wait_for_selector("#contact-email")
    await page.wait_for_function("[...livepy.components.values()].every(c => c.joined)")
    assert await page.input_value("#contact-email") == ""  # a fresh form
    assert await page.evaluate("window.__no_reload") is True
    await page.go_back()
    await page.wait_for_function("location.pathname.endsWith('/thanks')")
    await page.wait_for_selector("h1:has-text('Message sent')")
    assert await page.locator(".flash").count() == 0  # shown once
