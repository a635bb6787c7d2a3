from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from livepy.demo import load_example
from tests.conftest import ServeFactory

pytestmark = pytest.mark.browser

OpenExample = Callable[[str], Coroutine[Any, Any, Any]]


@pytest.fixture
def open_example(serve: ServeFactory, page: Any) -> OpenExample:
    """Serve an example app, open its page and wait until the runtime is connected."""

    async def open_(name: str) -> Any:
        server = await serve(load_example(name).app)
        await page.goto(server.url + "/")
        await page.wait_for_function("window.livepy && window.livepy.connected")
        # A marker that a full page reload would wipe out.
        await page.evaluate("window.__no_reload = true")
        return page

    return open_
