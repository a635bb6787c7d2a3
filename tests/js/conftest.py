"""Fixtures for the browser runtime's unit tests (see js_fake.py for the fake server)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest_asyncio

from tests.js.js_fake import FakeLive


@pytest_asyncio.fixture
async def live(serve: Callable[[Any], Any]) -> AsyncIterator[FakeLive]:
    fake = FakeLive()
    server = await serve(fake.app())
    fake.url = server.url
    yield fake
    await fake.close_all()


@pytest_asyncio.fixture
async def blank(page: Any, live: FakeLive) -> Any:
    """A page on the test server, ready for `await import('/js/<module>.js')`."""
    await page.goto(live.url + "/blank")
    return page
