"""Connection life: heartbeats, dead-socket detection, close codes, backoff, waking up, and the
switch to the HTTP transport."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from tests.js.js_fake import (
    FRAME_CALL,
    FRAME_JOIN,
    FRAME_PING,
    FRAME_PONG,
    RECORD_EVENTS,
    FakeLive,
    answer_join,
    counter,
    open_page,
    page_html,
)

pytestmark = pytest.mark.browser

CONN = "window.livepy._connection"


def events(page: Any) -> Any:
    return page.evaluate("window.__events.map(([n]) => n)")


async def test_idle_client_pings_and_stays_up_while_answered(page: Any, live: FakeLive) -> None:
    html, _ = counter()
    conn = await open_page(page, live, html, heartbeat_interval=0.2)
    for _ in range(4):  # well past the 0.5 s dead line, kept alive by the answers
        assert await conn.recv_type(FRAME_PING) == [FRAME_PING]
        await conn.send([FRAME_PONG])
    assert not conn.closed.is_set()
    assert await events(page) == ["lp:connected"]


async def test_silent_socket_is_declared_dead_and_replaced(page: Any, live: FakeLive) -> None:
    html, _ = counter()
    conn = await open_page(page, live, html, heartbeat_interval=0.2)
    await conn.recv_type(FRAME_PING)  # and never answer
    async with asyncio.timeout(5):
        await conn.closed.wait()
    assert conn.close_code == 4408
    conn2 = await live.accept()
    await answer_join(page, conn2)
    await conn2.send([FRAME_PONG])
    assert await events(page) == ["lp:connected", "lp:disconnected", "lp:reconnected"]
    await page.click("#inc")
    assert (await conn2.recv_call())[:3] == [FRAME_CALL, 1, 1]


async def test_a_server_ping_counts_as_traffic(page: Any, live: FakeLive) -> None:
    html, _ = counter()
    conn = await open_page(page, live, html, heartbeat_interval=0.2)
    # the server pings and never answers the client's pings: its own pings keep the socket alive
    deadline = time.monotonic() + 1.2
    while time.monotonic() < deadline:
        await conn.send([FRAME_PING])
        assert await conn.recv_type(FRAME_PONG) == [FRAME_PONG]
    assert not conn.closed.is_set()


async def test_origin_refused_stops_retrying(page: Any, live: FakeLive) -> None:
    html, _ = counter()
    conn = await open_page(page, live, html)
    await conn.close(4403)
    await page.wait_for_function(f"{CONN}.stopped === true")
    await page.wait_for_function("window.__events.some(([n]) => n === 'lp:disconnected')")
    assert await page.evaluate(f"{CONN}.ws") is None
    # waking up does not retry either
    await page.evaluate("window.dispatchEvent(new Event('online'))")
    assert await page.evaluate(f"{CONN}.ws") is None
    assert live.connections.empty()


async def test_too_many_connections_backs_off_at_least_five_seconds(
    page: Any, live: FakeLive
) -> None:
    html, _ = counter()
    conn = await open_page(page, live, html)
    await page.evaluate("Math.random = () => 0")  # the shortest wait jitter allows
    await conn.close(4429)
    await page.wait_for_function(f"{CONN}.holdUntil > 0")
    wait = await page.evaluate(f"{CONN}.holdUntil - Date.now()")
    assert 4500 < wait <= 5000
    # coming back online does not cut the wait short
    await page.evaluate("window.dispatchEvent(new Event('online'))")
    assert await page.evaluate(f"{CONN}.ws") is None


@pytest.mark.parametrize("code", [1012, 4408, 1011])
async def test_server_closes_are_followed_by_a_reconnect(
    page: Any, live: FakeLive, code: int
) -> None:
    html, _ = counter()
    conn = await open_page(page, live, html)
    await conn.close(code)
    conn2 = await live.accept()
    await answer_join(page, conn2)
    assert await events(page) == ["lp:connected", "lp:disconnected", "lp:reconnected"]


async def test_backoff_grows_with_full_jitter_up_to_the_cap(blank: Any) -> None:
    got = await blank.evaluate(
        """async () => {
          const { Socket } = await import('/js/socket.js');
          const s = new Socket({ reconnect_max_delay: 2 }, {});
          const random = Math.random;
          Math.random = () => 1;
          const ceilings = [1, 2, 3, 4, 5, 6].map(() => s.delayAfter(1006));
          Math.random = () => 0;
          const least = s.delayAfter(1006);
          const restart = [0, 0.999].map((r) => {
            Math.random = () => r;
            return s.delayAfter(1012);
          });
          Math.random = () => 0;
          const busy = s.delayAfter(4429);
          Math.random = random;
          s.close();
          return { ceilings, least, restart, busy };
        }"""
    )
    assert got["ceilings"] == [250, 500, 1000, 2000, 2000, 2000]
    assert got["least"] == 0
    assert got["restart"][0] == 0 and got["restart"][1] < 1000
    assert got["busy"] >= 5000


async def test_online_event_reconnects_at_once(page: Any, live: FakeLive) -> None:
    html, _ = counter()
    conn = await open_page(page, live, html)
    # make the pending reconnect a long one
    await page.evaluate(f"() => {{ Math.random = () => 0.99; {CONN}.attempts = 20; }}")
    await page.evaluate(f"() => {{ {CONN}.openedAt = Date.now(); }}")  # not a stable connection
    await conn.close(1011)
    await page.wait_for_function(f"{CONN}.ws === null")
    assert live.connections.empty()
    await page.evaluate("window.dispatchEvent(new Event('online'))")
    conn2 = await live.accept(wait_s=2)  # the 9.9 s backoff was cut short
    await answer_join(page, conn2)


async def test_waking_up_probes_an_open_socket(page: Any, live: FakeLive) -> None:
    html, _ = counter()
    conn = await open_page(page, live, html, heartbeat_interval=2)
    await page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    started = time.monotonic()
    await conn.recv_type(FRAME_PING)  # the probe, long before an idle ping would be due
    assert time.monotonic() - started < 1.5
    await conn.send([FRAME_PONG])  # answered: the socket stays
    await page.wait_for_function(f"{CONN}.probeTimer === null")
    await page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    await conn.recv_type(FRAME_PING)  # not answered this time: dead after the 2 s probe window
    async with asyncio.timeout(3.5):
        await conn.closed.wait()
    assert time.monotonic() - started < 4.5  # sooner than the 5 s dead line of heartbeats alone
    await answer_join(page, await live.accept())


STUB_HTTP = """
export class HttpTransport {
  constructor(config, handlers) {
    this.handlers = handlers;
    this.open = false;
    window.__http = { config, sent: [], transport: this };
  }
  connect() { this.open = true; this.handlers.onOpen(); }
  send(frame) { window.__http.sent.push(frame); return true; }
  isOpen() { return this.open; }
  close() { this.open = false; }
}
"""


async def test_falls_back_to_http_after_websocket_attempts_fail(page: Any, live: FakeLive) -> None:
    live.http_js = STUB_HTTP
    live.refusing = True
    html, _ = counter()
    live.pages["/p"] = page_html(html, ws_attempts=2)
    await page.add_init_script(RECORD_EVENTS)
    await page.goto(live.url + "/p")
    await page.wait_for_function("window.livepy.transport === 'http' && window.livepy.connected")
    assert live.refused == 2
    sent = await page.evaluate("window.__http.sent")
    assert sent[0][0] == FRAME_JOIN and sent[0][1][0][0] == "c1"
    await page.evaluate(
        """(html) => window.__http.transport.handlers.onFrame([7, 'c1', 9, html, null])""",
        html,
    )
    await page.click("#inc")
    await page.wait_for_function("window.__http.sent.length === 2")
    call = (await page.evaluate("window.__http.sent"))[1]
    assert call == [FRAME_CALL, 9, 1, {}, [["increment", []]]]
    assert await events(page) == ["lp:connected"]
    assert live.connections.empty()


async def test_http_transport_on_request(page: Any, live: FakeLive) -> None:
    live.http_js = STUB_HTTP
    html, _ = counter()
    live.pages["/p"] = page_html(html, transport="http")
    await page.goto(live.url + "/p")
    await page.wait_for_function("window.livepy.transport === 'http' && window.livepy.connected")
    assert await page.evaluate("window.__http.config.transport") == "http"
    assert live.connections.empty() and live.refused == 0  # no WebSocket was even tried


async def test_no_fallback_once_a_websocket_worked(page: Any, live: FakeLive) -> None:
    live.http_js = STUB_HTTP
    html, _ = counter()
    conn = await open_page(page, live, html, ws_attempts=2)
    live.refusing = True  # the server goes away: a restart, not a proxy that blocks WebSockets
    await conn.close(1012)
    await page.wait_for_function(f"{CONN}.attempts >= 3", polling=50, timeout=10_000)
    assert await page.evaluate("window.livepy.transport") == "websocket"
    assert await page.evaluate("window.__http ?? null") is None
    live.refusing = False
    await page.evaluate("window.dispatchEvent(new Event('online'))")
    await answer_join(page, await live.accept())


async def test_missing_http_module_keeps_trying_websockets(page: Any, live: FakeLive) -> None:
    live.http_js = "export const nothing = 1; throw new Error('no transport here');"
    live.refusing = True
    html, _ = counter()
    live.pages["/p"] = page_html(html, ws_attempts=1)
    page.on("console", lambda msg: None)
    await page.goto(live.url + "/p")
    await page.wait_for_function("window.livepy._connection && " + CONN + ".attempts >= 2")
    assert await page.evaluate("window.livepy.transport") == "websocket"
    live.refusing = False
    await page.evaluate("window.dispatchEvent(new Event('online'))")
    await answer_join(page, await live.accept())
