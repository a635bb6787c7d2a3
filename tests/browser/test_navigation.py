"""Navigation in real Chromium: lp-navigate swaps pages without a reload (over the socket, or
with fetch() in HTTP fallback mode), back and forward, redirects, and flash messages."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from livepy import Component, LivePy, action
from tests.conftest import ServeFactory

pytestmark = pytest.mark.browser


class BrNavCount(Component):
    template_source = (
        '<div><button class="inc" lp-click="inc">+</button><b class="n">{{ n }}</b></div>'
    )
    n: int = 0

    @action
    def inc(self) -> None:
        self.n += 1


class BrNavForm(Component):
    template_source = (
        '<div><button class="save" lp-click="save">save</button>'
        '<button class="leave" lp-click="leave">leave</button></div>'
    )

    @action
    def save(self) -> None:
        self.flash("Saved!", "success")
        self.redirect("/", navigate=True)

    @action
    def leave(self) -> None:
        self.redirect("/?full=1")


LAYOUT = """<html><head><title>{{ title }}</title>{{ livepy_scripts() }}</head><body>
<nav><a class="to-one" lp-navigate href="/">one</a>
<a class="to-two" lp-navigate href="/two">two</a>
<a class="to-json" lp-navigate href="/json">json</a></nav>
{% for f in flashes() %}<p class="flash {{ f.level }}">{{ f }}</p>{% endfor %}
<main class="{{ title }}">{{ livepy(component) }}</main>
<script>window.__bodyScripts = (window.__bodyScripts || 0) + 1</script>
</body></html>"""


def _app(websocket: bool) -> Starlette:
    live = LivePy(secret_key="k" * 32, websocket=websocket)
    layout = live.env.from_string(LAYOUT)

    async def one(request: Request) -> Response:
        html = layout.render(request=request, title="One", component="br_nav_count")
        return Response(html, media_type="text/html")

    async def two(request: Request) -> Response:
        html = layout.render(request=request, title="Two", component="br_nav_form")
        return Response(html, media_type="text/html")

    async def json(request: Request) -> Response:
        return Response('{"a": 1}', media_type="application/json")

    app = Starlette(routes=[Route("/", one), Route("/two", two), Route("/json", json)])
    live.install(app)
    return app


async def _open(serve: ServeFactory, page: Any, *, websocket: bool = True) -> tuple[Any, list[str]]:
    server = await serve(_app(websocket))
    documents: list[str] = []  # page loads and fetches of pages, not the socket's renders
    page.on(
        "request",
        lambda r: (
            documents.append(r.url[len(server.url) :])
            if r.resource_type in ("document", "fetch") and "/livepy/" not in r.url
            else None
        ),
    )
    await page.goto(server.url + "/")
    await _ready(page, "One")
    await page.evaluate("window.__marker = 1")
    return server, documents


async def _ready(page: Any, title: str) -> None:
    await page.wait_for_function(
        "(t) => document.title === t && document.querySelector('main.' + t) && livepy.connected"
        " && livepy.components.size === 1 && [...livepy.components.values()].every(c => c.joined)",
        arg=title,
    )


async def test_lp_navigate_over_the_socket_with_back_and_forward(
    serve: ServeFactory, page: Any
) -> None:
    server, documents = await _open(serve, page)
    await page.click(".inc")
    await page.wait_for_function("document.querySelector('.n').textContent === '1'")
    await page.click(".to-two")
    await _ready(page, "Two")
    assert page.url == server.url + "/two"
    assert await page.evaluate("window.__marker") == 1  # no reload
    assert await page.evaluate("window.__bodyScripts") == 2  # the new body's script ran
    assert (
        await page.evaluate("document.querySelectorAll('script[src$=\"livepy.js\"]').length") == 1
    )
    await page.go_back()
    await _ready(page, "One")
    assert page.url == server.url + "/"
    await page.click(".inc")  # the new page's component works
    await page.wait_for_function("document.querySelector('.n').textContent === '1'")
    await page.go_forward()
    await _ready(page, "Two")
    assert await page.evaluate("window.__marker") == 1
    assert documents == ["/"]  # both pages after the first came over the socket


async def test_redirect_with_navigate_shows_the_flash_once(serve: ServeFactory, page: Any) -> None:
    _, documents = await _open(serve, page)
    await page.click(".to-two")
    await _ready(page, "Two")
    await page.click(".save")
    await _ready(page, "One")
    assert await page.text_content("p.flash.success") == "Saved!"
    assert await page.evaluate("window.__marker") == 1
    assert "livepy_flash" not in await page.evaluate("document.cookie")
    await page.click(".to-two")
    await _ready(page, "Two")
    await page.click(".to-one")
    await _ready(page, "One")
    assert await page.locator("p.flash").count() == 0  # shown once
    assert documents == ["/"]


async def test_redirect_is_a_full_page_load(serve: ServeFactory, page: Any) -> None:
    server, _ = await _open(serve, page)
    await page.click(".to-two")
    await _ready(page, "Two")
    await page.click(".leave")
    await page.wait_for_url(server.url + "/?full=1")
    await _ready(page, "One")
    assert await page.evaluate("window.__marker") is None


async def test_a_page_that_is_no_html_is_loaded_in_full(serve: ServeFactory, page: Any) -> None:
    server, _ = await _open(serve, page)
    await page.click(".to-json")
    await page.wait_for_url(server.url + "/json")
    assert '"a": 1' in await page.text_content("body")


async def test_navigation_and_flash_over_the_http_fallback(serve: ServeFactory, page: Any) -> None:
    _, documents = await _open(serve, page, websocket=False)
    assert await page.evaluate("livepy.transport") == "http"
    await page.click(".to-two")
    await _ready(page, "Two")
    await page.click(".save")
    await _ready(page, "One")
    assert await page.text_content("p.flash.success") == "Saved!"
    await page.go_back()
    await _ready(page, "Two")
    assert await page.evaluate("window.__marker") == 1
    assert documents == ["/", "/two", "/", "/two"]  # fetched, not loaded
