"""``lp-navigate`` over the socket: render a page through the app the WebSocket belongs to.

A NAVIGATE frame names a same-origin path. The page is rendered by an internal GET run
through ``scope["app"]`` of the WebSocket (the Starlette app, with its middleware), carrying
the handshake's headers and cookies, updated with the cookies the page's script sees (a
flash set after the socket opened). The PAGE answer holds the status, the final URL and
the html. Same-origin redirects are followed; anything the browser must handle itself (a
redirect elsewhere, a non-html or oversized body, a timeout) comes back with status 0 and no
html, and the runtime loads the URL with a full page load instead. An html page whose response
sets cookies (Starlette's SessionMiddleware does on every response) comes back with its status
and no html: only the browser can store those cookies (an HttpOnly one cannot be set from
script), so the runtime fetches that page with ``fetch()``, which does, and still swaps it in.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import urljoin, urlsplit

from livepy.protocol import constants as c
from livepy.protocol.frames import Navigate, Page

__all__ = ["MAX_PAGE_BYTES", "MAX_REDIRECTS", "PAGE_TIMEOUT", "check_path", "render_page"]

logger = logging.getLogger("livepy.navigation")

MAX_REDIRECTS = 5
MAX_PAGE_BYTES = 4 * 1024 * 1024
PAGE_TIMEOUT = 15.0  # seconds for the whole render, redirects included
FULL_LOAD = 0  # PAGE status: no html, the browser loads the URL itself
NAVIGATE_HEADER = b"x-livepy-navigate"
# Handshake headers that describe the socket, not a page request.
_DROPPED = {
    b"cookie",
    b"upgrade",
    b"connection",
    b"origin",
    b"accept-encoding",  # a compressed body could not be read back as html
    b"content-length",
    b"content-type",
}


class _PageTooLarge(Exception):
    pass


def check_path(url: str) -> str:
    """``url`` when it is a same-origin path (``/a?b``); ValueError naming the problem."""
    if not url.startswith("/") or url.startswith(("//", "/\\")):
        raise ValueError(f"navigation takes a same-origin path starting with '/', not {url!r}")
    if any(ord(ch) <= 0x20 or ord(ch) == 0x7F for ch in url):
        raise ValueError(f"a navigation path cannot contain spaces or control characters: {url!r}")
    return url


def _cookie_header(handshake: str, page_cookies: str | None) -> str:
    """The handshake's cookies, updated by those the page's script sees now."""
    jar: dict[str, str] = {}
    for source in (handshake, page_cookies or ""):
        parsed = SimpleCookie()
        try:
            parsed.load(source)
        except CookieError:
            continue
        jar.update({name: morsel.coded_value for name, morsel in parsed.items()})
    return "; ".join(f"{name}={value}" for name, value in jar.items())


def _headers(ws_scope: MutableMapping[str, Any], cookies: str | None) -> list[tuple[bytes, bytes]]:
    handshake = ""
    headers: list[tuple[bytes, bytes]] = []
    for name, value in ws_scope.get("headers", []):
        if name == b"cookie":
            handshake = value.decode("latin-1")
        if name not in _DROPPED and not name.startswith(b"sec-websocket"):
            headers.append((name, value))
    cookie = _cookie_header(handshake, cookies)
    if cookie:
        headers.append((b"cookie", cookie.encode("latin-1")))
    headers.append((b"accept", b"text/html"))
    headers.append((NAVIGATE_HEADER, b"1"))
    return headers


async def _get(
    app: Any, ws_scope: MutableMapping[str, Any], path: str, headers: list[tuple[bytes, bytes]]
) -> tuple[int, dict[bytes, list[bytes]], bytes]:
    """Run one GET through ``app``: (status, headers by lowercased name, body)."""
    parts = urlsplit(path)
    scheme = "https" if ws_scope.get("scheme") in ("wss", "https") else "http"
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": scheme,
        "path": parts.path,
        "raw_path": parts.path.encode(),
        "query_string": parts.query.encode(),
        "root_path": ws_scope.get("root_path", ""),
        "headers": headers,
        "client": ws_scope.get("client"),
        "server": ws_scope.get("server"),
        "state": dict(ws_scope.get("state") or {}),
        "extensions": {},
    }
    done = asyncio.Event()
    sent_request = False

    async def receive() -> dict[str, Any]:
        nonlocal sent_request
        if not sent_request:
            sent_request = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await done.wait()  # a streaming response watching for a disconnect
        return {"type": "http.disconnect"}

    status = 0
    response_headers: dict[bytes, list[bytes]] = {}
    body = bytearray()

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])
            for name, value in message.get("headers", []):
                response_headers.setdefault(bytes(name).lower(), []).append(bytes(value))
        elif message["type"] == "http.response.body":
            body.extend(message.get("body", b""))
            if len(body) > MAX_PAGE_BYTES:
                raise _PageTooLarge
            if not message.get("more_body", False):
                done.set()

    try:
        await app(scope, receive, send)
    finally:
        done.set()
    return status, response_headers, bytes(body)


async def _follow(
    app: Any, ws_scope: MutableMapping[str, Any], path: str, cookies: str | None
) -> tuple[int, str, str | None]:
    headers = _headers(ws_scope, cookies)
    host = dict(ws_scope.get("headers", [])).get(b"host", b"").decode("latin-1")
    for _ in range(MAX_REDIRECTS + 1):
        status, response_headers, body = await _get(app, ws_scope, path, headers)
        location = (response_headers.get(b"location") or [b""])[0].decode("latin-1")
        if 300 <= status < 400 and location:
            target = urlsplit(urljoin(f"http://{host}{path}", location))
            if target.scheme not in ("http", "https"):
                # javascript:, data: ... are inert in a real redirect but would run if the
                # runtime assigned them to location: the browser loads the path itself.
                logger.warning("event=navigate_redirect_refused path=%s", path)
                return FULL_LOAD, path, None
            if target.netloc != host:
                return FULL_LOAD, location, None  # another site: the browser goes there
            path = target.path + (f"?{target.query}" if target.query else "")
            continue
        content_type = (response_headers.get(b"content-type") or [b""])[0].decode("latin-1")
        if not content_type.startswith("text/html"):
            return FULL_LOAD, path, None  # only html can be swapped in: the browser loads it
        if b"set-cookie" in response_headers:
            # Cookies must land in the browser (an HttpOnly one cannot be set from script):
            # a status without html tells the runtime to fetch() the page, which stores them.
            return status or 200, path, None
        return status, path, body.decode("utf-8", errors="replace")
    return FULL_LOAD, path, None  # too many redirects: let the browser report it


async def render_page(
    ws_scope: MutableMapping[str, Any] | None,
    frame: Navigate,
    leave: Callable[[], Awaitable[None]],
) -> Page:
    """The PAGE answering ``frame``; refusals carry ``[code, message]``.

    ``leave`` runs once the request is accepted: the page that sent it is being replaced.
    """
    url = frame.url.partition("#")[0]
    try:
        check_path(url)
    except ValueError as exc:
        return Page(frame.nav, 400, frame.url, None, [c.ERR_BAD_URL, str(exc)])
    app = (ws_scope or {}).get("app")
    if ws_scope is None or app is None:
        message = "this connection cannot render pages: navigate with an HTTP request instead"
        return Page(frame.nav, 400, url, None, [c.ERR_BAD_URL, message])
    await leave()
    try:
        async with asyncio.timeout(PAGE_TIMEOUT):
            status, final, html = await _follow(app, ws_scope, url, frame.cookies)
    except _PageTooLarge:
        logger.info("event=navigate_full_load reason=too_large url=%s", url)
        return Page(frame.nav, FULL_LOAD, url, None)
    except TimeoutError:
        logger.warning("event=navigate_full_load reason=timeout url=%s", url)
        return Page(frame.nav, FULL_LOAD, url, None)
    except Exception:
        logger.exception("rendering %s for lp-navigate failed", url)
        return Page(frame.nav, FULL_LOAD, url, None)
    return Page(frame.nav, status, final, html)
