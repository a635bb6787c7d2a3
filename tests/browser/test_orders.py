"""The orders example in real Chromium: private channels reach only the order's owner."""

from __future__ import annotations

from typing import Any

import pytest

from livepy.demo import load_example
from tests.conftest import LiveServer, ServeFactory

pytestmark = pytest.mark.browser


async def sign_in(browser: Any, server: LiveServer, user: str) -> Any:
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(f"{server.url}/login?user={user}")
    await page.wait_for_function("window.livepy && window.livepy.connected")
    await page.evaluate(
        """() => { window.__errors = [];
            window.addEventListener('lp:error', (e) => window.__errors.push(e.detail.code)); }"""
    )
    return page


def status(order_id: int) -> str:
    return f"document.querySelector('.order[data-order=\"{order_id}\"] .status').textContent"


async def test_a_status_change_reaches_only_the_owner(browser: Any, serve: ServeFactory) -> None:
    module = load_example("orders")
    for order in module.ORDERS.values():
        order["status"] = "placed"
    server = await serve(module.app)
    alice = await sign_in(browser, server, "alice")
    bob = await sign_in(browser, server, "bob")
    try:
        assert await alice.locator(".order").count() == 1
        assert await bob.locator(".order").count() == 2
        # Bob points his tracker of order 3 at Alice's order 1: the browser may change any
        # state field, but the private channel is authorized for his user and refused.
        await bob.evaluate(
            """() => {
                const el = document.querySelector('.order[data-order="3"]');
                const id = el.closest('[lp-id]').getAttribute('lp-id');
                window.livepy.find(id).set('order_id', 1);
            }"""
        )
        await bob.wait_for_function("window.__errors.includes('channel_forbidden')")
        await bob.wait_for_function(f"{status(1)} === 'placed'")
        await alice.click(".advance-1")  # order 1 (Alice's) moves to packed
        await alice.wait_for_function(f"{status(1)} === 'packed'")
        await alice.click(".advance-2")  # then Bob's order 2: Bob's page hears that one
        await bob.wait_for_function(f"{status(2)} === 'packed'")
        assert await bob.evaluate(status(1)) == "placed"  # never heard of order 1's change
        assert await alice.evaluate("window.__errors") == []
    finally:
        await alice.context.close()
        await bob.context.close()
