"""Redirects, flash messages and NAVIGATE frames, without a browser."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from livepy import Component, LivePy, action
from livepy.features.navigation import check_redirect_url
from livepy.features.navigation.flash import FLASH_COOKIE, read_flashes, sign_flashes
from livepy.protocol import constants as c
from livepy.protocol.frames import (
    ErrorFrame,
    Join,
    JoinItem,
    Navigate,
    Page,
    decode_server_frame,
    encode,
)
from livepy.session import LiveSession, active_live
from livepy.testing import LivepyTestError


class NavSaver(Component):
    template_source = "<div>{{ saved }}</div>"
    saved: bool = False

    @action
    def save(self, navigate: bool = False) -> None:
        self.saved = True
        self.flash("Saved!", "success")
        self.flash("Twice")
        self.redirect("/first")
        self.redirect("/done?x=1", navigate=navigate)

    @action
    def bad_redirect(self) -> None:
        self.redirect("javascript:alert(1)")

    @action
    def huge_flash(self) -> None:
        self.flash(secrets.token_hex(2500))  # random: the token is compressed


@pytest.fixture
def live() -> LivePy:
    return LivePy(secret_key="k" * 32)


class _Request:
    def __init__(self, cookies: dict[str, str]) -> None:
        self.cookies = cookies


def test_redirect_and_flash_are_effects(live: LivePy) -> None:
    t = live.test(NavSaver).call("save")
    t.assert_redirect().assert_redirect("/done?x=1")
    with pytest.raises(AssertionError):
        t.assert_redirect("/first")  # the last redirect asked for wins
    assert t.last_reply is not None and t.last_reply.effects is not None
    assert t.last_reply.effects["redirect"] == [{"url": "/done?x=1", "navigate": False}]
    (token,) = t.last_reply.effects["flash"]
    flashes = read_flashes(live, _Request({FLASH_COOKIE: token}))
    assert [(f.level, f.message) for f in flashes] == [("success", "Saved!"), ("info", "Twice")]
    assert str(flashes[0]) == "Saved!"
    t.call("save", True)
    assert t.last_reply.effects["redirect"] == [{"url": "/done?x=1", "navigate": True}]


def test_no_redirect_is_reported(live: LivePy) -> None:
    t = live.test(NavSaver).set("saved", True)
    with pytest.raises(AssertionError, match="no redirect"):
        t.assert_redirect()


def test_bad_redirects_and_oversized_flashes_fail_the_action(live: LivePy) -> None:
    t = live.test(NavSaver)
    for method in ("bad_redirect", "huge_flash"):
        with pytest.raises(LivepyTestError) as info:
            t.call(method)
        assert info.value.code == c.ERR_COMPONENT_ERROR


@pytest.mark.parametrize("url", ["/a", "/a?b=1#c", "https://example.com/x", "//cdn.example/x"])
def test_redirect_urls_that_are_allowed(url: str) -> None:
    assert check_redirect_url(url) == url


@pytest.mark.parametrize("url", ["", "javascript:alert(1)", "data:text/html,x", "/a\nb", 5])
def test_redirect_urls_that_are_refused(url: Any) -> None:
    with pytest.raises(ValueError):
        check_redirect_url(url)


def test_forged_or_foreign_flash_cookies_show_nothing(live: LivePy) -> None:
    other = LivePy(secret_key="o" * 32)
    assert read_flashes(live, _Request({FLASH_COOKIE: sign_flashes(other, [["info", "hi"]])})) == []
    assert read_flashes(live, _Request({FLASH_COOKIE: "garbage"})) == []
    assert read_flashes(live, _Request({})) == []
    assert read_flashes(live, None) == []


def test_flashes_is_a_template_global(live: LivePy) -> None:
    token = sign_flashes(live, [["error", "<b>No</b>"]])
    template = live.env.from_string(
        "{% for f in flashes() %}<p class='{{ f.level }}'>{{ f }}</p>{% endfor %}"
    )
    html = template.render(request=_Request({FLASH_COOKIE: token}))
    assert html == "<p class='error'>&lt;b&gt;No&lt;/b&gt;</p>"


def test_flash_outside_a_session_is_a_clear_error() -> None:
    with pytest.raises(RuntimeError, match="inside an action"):
        active_live()


# -- NAVIGATE ----------------------------------------------------------------------------


def _app() -> Starlette:
    async def page(request: Request) -> Response:
        cookies = ";".join(f"{k}={v}" for k, v in sorted(request.cookies.items()))
        nav = request.headers.get("x-livepy-navigate")
        body = f"<html><body>{request.url.path} {cookies} nav={nav}</body></html>"
        return Response(body, media_type="text/html")

    async def boom(request: Request) -> Response:
        raise RuntimeError("boom")

    async def sets_cookie(request: Request) -> Response:
        response = Response("<p>x</p>", media_type="text/html")
        response.set_cookie("session", "new")
        return response

    routes = [
        Route("/page", page),
        Route("/hop", lambda r: RedirectResponse("/page?from=hop", 303)),
        Route("/off", lambda r: RedirectResponse("https://elsewhere.example/", 302)),
        Route("/loop", lambda r: RedirectResponse("/loop", 302)),
        Route("/json", lambda r: JSONResponse({"a": 1})),
        Route("/cookie", sets_cookie),
        Route("/boom", boom),
    ]
    return Starlette(routes=routes)


async def _navigate(live: LivePy, url: str, cookies: str | None = None) -> Any:
    session = LiveSession(live)
    app = _app()
    session.scope = {
        "type": "websocket",
        "app": app,
        "scheme": "ws",
        "root_path": "",
        "headers": [(b"host", b"testserver"), (b"cookie", b"a=1; b=old"), (b"origin", b"x")],
    }
    (frame,) = await session.receive(encode(Navigate(7, url, cookies)))
    await session.close()
    return decode_server_frame(frame)


async def test_navigate_renders_the_page_with_the_cookies(live: LivePy) -> None:
    page = await _navigate(live, "/page", "b=new; livepy_flash=tok")
    assert isinstance(page, Page) and page.nav == 7 and page.status == 200
    assert page.url == "/page" and page.error is None
    assert page.html == "<html><body>/page a=1;b=new;livepy_flash=tok nav=1</body></html>"


async def test_navigate_follows_same_origin_redirects(live: LivePy) -> None:
    page = await _navigate(live, "/hop#top")
    assert (page.status, page.url) == (200, "/page?from=hop")


@pytest.mark.parametrize(
    ("url", "final"),
    [
        ("/off", "https://elsewhere.example/"),
        ("/loop", "/loop"),
        ("/json", "/json"),
        ("/boom", "/boom"),
    ],
)
async def test_pages_the_browser_must_load_itself(live: LivePy, url: str, final: str) -> None:
    page = await _navigate(live, url)
    assert (page.status, page.url, page.html, page.error) == (0, final, None, None)


async def test_a_page_that_sets_cookies_is_left_to_fetch(live: LivePy) -> None:
    # A status without html: the runtime fetch()es it, so the browser stores the cookie.
    page = await _navigate(live, "/cookie")
    assert (page.status, page.url, page.html, page.error) == (200, "/cookie", None, None)


@pytest.mark.parametrize("url", ["https://evil.example/", "//evil.example/", "page", "/a b"])
async def test_navigate_refuses_what_is_no_same_origin_path(live: LivePy, url: str) -> None:
    page = await _navigate(live, url)
    assert page.html is None and page.error[0] == c.ERR_BAD_URL


async def test_malformed_navigate_frames_are_bad_frames(live: LivePy) -> None:
    import msgpack

    session = LiveSession(live)
    for body in ([13, 1], [13, -1, "/", None], [13, 1, 5, None], [13, 1, "/", 5]):
        (frame,) = await session.receive(msgpack.packb(body))
        error = decode_server_frame(frame)
        assert isinstance(error, ErrorFrame) and error.code == c.ERR_BAD_FRAME
    # Over the HTTP fallback there is no socket scope: a clear refusal.
    (frame,) = await session.receive(encode(Navigate(1, "/page")))
    page = decode_server_frame(frame)
    assert isinstance(page, Page) and page.error is not None and page.error[0] == c.ERR_BAD_URL


async def test_navigate_lets_the_old_page_components_go(live: LivePy) -> None:
    instance = NavSaver()
    instance.id = "n1"
    snapshot = live.snapshots.sign("nav_saver", "n1", instance.snapshot_state())
    session = LiveSession(live)
    session.scope = {"type": "websocket", "app": _app(), "headers": [(b"host", b"t")]}
    await session.receive(encode(Join((JoinItem("n1", snapshot.to_wire()),))))
    assert len(session.components) == 1
    await session.receive(encode(Navigate(1, "https://bad.example/")))
    assert len(session.components) == 1  # a refused navigation leaves the page as it is
    await session.receive(encode(Navigate(2, "/page")))
    assert session.components == {}
    await session.close()
