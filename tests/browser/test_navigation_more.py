"""Navigation meeting other features in real Chromium: an app whose pages set cookies (Starlette's
SessionMiddleware), and URL-bound fields on pages swapped in with lp-navigate, back and forward."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import pytest
from starlette.applications import Starlette
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from livepy import Component, LivePy, action, url
from tests.browser.test_navigation import BrNavCount
from tests.conftest import ServeFactory

pytestmark = pytest.mark.browser


class BrNavMoreQuery(Component):
    template_source = (
        '<div><button class="put-a" lp-click="put(\'a\')">a</button>'
        '<button class="put-b" lp-click="put(\'b\')">b</button><b class="q">[{{ q }}]</b></div>'
    )
    q: Annotated[str, url(history=True)] = ""

    @action
    def put(self, value: str) -> None:
        self.q = value


LAYOUT = """<html><head><title>{{ title }}</title>{{ livepy_scripts() }}</head><body>
<nav><a class="to-one" lp-navigate href="/">one</a>
<a class="to-two" lp-navigate href="/two">two</a></nav>
<p class="visits">{{ visits }}</p>
<main class="{{ title }}">{{ livepy(component) }}</main>
</body></html>"""


def _app(component: str, *, sessions: bool, slow: bool = False) -> Starlette:
    live = LivePy(secret_key="k" * 32)
    layout = live.env.from_string(LAYOUT)

    def page(title: str) -> Any:
        async def endpoint(request: Request) -> Response:
            if slow and request.headers.get("x-livepy-navigate"):
                await asyncio.sleep(0.3)  # time for the page being left to send what it would
            visits = 0
            if sessions:  # the session changes, so every response sets its cookie again
                visits = request.session["visits"] = request.session.get("visits", 0) + 1
            html = layout.render(request=request, title=title, component=component, visits=visits)
            return Response(html, media_type="text/html")

        return endpoint

    app = Starlette(routes=[Route("/", page("One")), Route("/two", page("Two"))])
    if sessions:
        app.add_middleware(SessionMiddleware, secret_key="s" * 32)
    live.install(app)
    return app


async def _ready(page: Any, title: str) -> None:
    await page.wait_for_function(
        "(t) => document.title === t && document.querySelector('main.' + t) && livepy.connected"
        " && livepy.components.size === 1 && [...livepy.components.values()].every(c => c.joined)",
        arg=title,
    )


async def _open(serve: ServeFactory, page: Any, app: Starlette) -> tuple[str, list[str]]:
    server = await serve(app)
    documents: list[str] = []  # page loads and fetches of pages, not the socket's renders
    page.on(
        "request",
        lambda r: (
            documents.append(f"{r.resource_type} {r.url[len(server.url) :]}")
            if r.resource_type in ("document", "fetch") and "/livepy/" not in r.url
            else None
        ),
    )
    await page.goto(server.url + "/")
    await _ready(page, "One")
    await page.evaluate("window.__marker = 1")
    return server.url, documents


async def test_pages_that_set_session_cookies_are_fetched_not_reloaded(
    serve: ServeFactory, page: Any
) -> None:
    base, documents = await _open(serve, page, _app(BrNavCount.name, sessions=True))
    assert await page.text_content(".visits") == "1"
    await page.click(".to-two")
    await _ready(page, "Two")
    assert page.url == base + "/two"
    assert await page.evaluate("window.__marker") == 1  # no reload
    # The fetch stored the session cookie: the next page sees the visits so far.
    assert await page.text_content(".visits") == "2"
    await page.click(".inc")  # the new page's component joined and works
    await page.wait_for_function("document.querySelector('.n').textContent === '1'")
    await page.click(".to-one")
    await _ready(page, "One")
    assert await page.text_content(".visits") == "3"  # fetched straight away from now on
    await page.go_back()
    await _ready(page, "Two")
    assert await page.text_content(".visits") == "4"
    await page.click(".inc")
    await page.wait_for_function("document.querySelector('.n').textContent === '1'")
    assert await page.evaluate("window.__marker") == 1
    assert documents == ["document /", "fetch /two", "fetch /", "fetch /two"]


async def test_back_and_forward_swap_pages_or_restore_url_fields(
    serve: ServeFactory, page: Any
) -> None:
    base, documents = await _open(serve, page, _app("br_nav_more_query", sessions=False, slow=True))
    await page.click(".put-a")
    await page.wait_for_function("location.search === '?q=a'")
    await page.click(".put-b")
    await page.wait_for_function("location.search === '?q=b'")
    first_id = await page.evaluate("[...livepy.components.keys()][0]")

    # Within the page: back restores the field, the page stays.
    await page.go_back()
    await page.wait_for_function("document.querySelector('.q').textContent === '[a]'")
    assert page.url == base + "/?q=a"
    assert await page.evaluate("[...livepy.components.keys()][0]") == first_id
    await page.go_forward()
    await page.wait_for_function("document.querySelector('.q').textContent === '[b]'")

    # Across pages: back swaps the earlier page in, and the page being left gets no calls.
    await page.click(".to-two")
    await _ready(page, "Two")
    await page.evaluate(
        """() => {
            window.__sent = [];
            const connection = livepy._connection;
            const send = connection.send.bind(connection);
            connection.send = (frame) => { window.__sent.push(frame[0]); return send(frame); };
        }"""
    )
    await page.go_back()
    await _ready(page, "One")
    await page.wait_for_function("document.querySelector('.q').textContent === '[b]'")
    assert page.url == base + "/?q=b"
    sent = [kind for kind in await page.evaluate("window.__sent") if kind not in (5, 6)]
    assert 2 not in sent, f"a CALL went to the page being left: frames {sent}"
    assert sent[:2] == [13, 1]  # NAVIGATE, then the JOIN of the page swapped in

    # The page swapped in owns the entries it pushed before: back restores its field again.
    await page.go_back()
    await page.wait_for_function("document.querySelector('.q').textContent === '[a]'")
    assert page.url == base + "/?q=a"
    assert (await page.evaluate("window.__sent")).count(13) == 1  # no second swap
    assert await page.evaluate("window.__marker") == 1
    assert documents == ["document /"]
