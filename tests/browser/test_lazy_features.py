"""Lazy components meeting other features in real Chromium: URL-bound fields restored from the
page's query string, and what mount() dispatched delivered right after the join."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from livepy import Component, LivePy, Url
from tests.conftest import ServeFactory

pytestmark = pytest.mark.browser


class BrLazySearch(Component):
    template_source = '<section class="found">results for [{{ q }}]</section>'
    q: Url[str] = ""

    def mount(self) -> None:
        self.dispatch_browser("lazy-loaded", step="mounted")


PAGE = """<!doctype html><html><head><meta charset="utf-8">{{ livepy_scripts() }}
<script>
window.addEventListener("lazy-loaded", (e) => { window.__loaded = e.detail.step; });
</script>
</head><body>{{ livepy("br_lazy_search", lazy=True) }}</body></html>"""


def _app() -> Starlette:
    live = LivePy(secret_key="k" * 32)
    page = live.env.from_string(PAGE)

    async def home(request: Request) -> Response:
        return Response(page.render(request=request), media_type="text/html")

    app = Starlette(routes=[Route("/", home)])
    live.install(app)
    return app


async def test_a_lazy_component_mounts_with_the_query_and_its_effects(
    serve: ServeFactory, page: Any
) -> None:
    server = await serve(_app())
    await page.goto(server.url + "/?q=shoes")
    await page.wait_for_function("document.querySelector('section.found')")
    assert await page.text_content("section") == "results for [shoes]"
    await page.wait_for_function("window.__loaded === 'mounted'")  # not held for a next reply
    assert await page.evaluate("location.search") == "?q=shoes"  # the join kept the URL
