"""The HTTP fallback in real Chromium: with WebSockets off (``LivePy(websocket=False)``, which is
what ``LIVEPY_TRANSPORT=http`` sets), the examples work over POST + Server-Sent Events, and
``js/http.js`` translates refs, sequence numbers, diffs and errors for the runtime."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from livepy.demo import load_example
from tests.conftest import ServeFactory

pytestmark = pytest.mark.browser

OpenHttp = Callable[[str], Coroutine[Any, Any, Any]]


@pytest.fixture
def open_http(serve: ServeFactory, page: Any, monkeypatch: pytest.MonkeyPatch) -> OpenHttp:
    """Serve an example with WebSockets refused, open it, wait for the HTTP transport."""

    async def open_(name: str) -> Any:
        module = load_example(name)
        monkeypatch.setattr(module.live, "websocket", False)
        server = await serve(module.app)
        sockets: list[str] = []
        page.on("websocket", lambda ws: sockets.append(ws.url))
        await page.goto(server.url + "/")
        await page.wait_for_function("window.livepy && window.livepy.connected")
        assert await page.evaluate("window.livepy.transport") == "http"
        assert sockets == []  # config.transport = "http": no WebSocket attempt at all
        await page.evaluate("window.__no_reload = true")
        return page

    return open_


async def test_counter_over_http(open_http: OpenHttp) -> None:
    page = await open_http("counter")
    requests: list[str] = []
    page.on("request", lambda request: requests.append(f"{request.method} {request.url}"))
    await page.click("button[aria-label=increment]")
    await page.wait_for_function("document.querySelector('.count').textContent === '4'")
    await page.click("text=+5")
    await page.wait_for_function("document.querySelector('.count').textContent === '9'")
    button = page.locator("button[aria-label=increment]")
    for _ in range(5):  # rapid clicks queue up and go in order, each from the latest snapshot
        await button.click()
    await page.wait_for_function("document.querySelector('.count').textContent === '14'")
    await page.click("button[aria-label=decrement]")
    await page.wait_for_function("document.querySelector('.count').textContent === '13'")
    assert await page.evaluate("window.__no_reload") is True
    assert any(r.startswith("POST ") and r.endswith("/livepy/update") for r in requests)


async def test_loading_indicator_over_http(open_http: OpenHttp) -> None:
    page = await open_http("counter")
    saving = page.locator(".saving")
    await page.click("text=+1 slowly")
    await saving.wait_for(state="visible")
    await page.wait_for_function("document.querySelector('.count').textContent === '4'")
    await saving.wait_for(state="hidden")


async def test_todos_over_http(open_http: OpenHttp) -> None:
    page = await open_http("todos")
    field = "input[lp-model\\.live=draft]"
    for count, text in enumerate(["milk", "eggs", "bread"], start=1):
        await page.fill(field, text)
        await page.press(field, "Enter")
        await page.wait_for_function(f"document.querySelectorAll('.todos li').length === {count}")
    assert await page.locator(".todos li span").all_text_contents() == ["milk", "eggs", "bread"]
    await page.click("input[aria-label='toggle eggs']")
    await page.wait_for_function(
        "document.querySelector('.todos li[lp-key=\"2\"]').classList.contains('done')"
    )
    await page.click("button[aria-label='remove milk']")
    await page.wait_for_function("document.querySelectorAll('.todos li').length === 2")
    assert await page.locator(".remaining").text_content() == "1 left"
    assert await page.evaluate("window.__no_reload") is True


async def test_sse_stream_is_open(open_http: OpenHttp) -> None:
    page = await open_http("counter")
    await page.wait_for_function(
        "window.livepy._connection.source && window.livepy._connection.source.readyState === 1"
    )


async def test_transport_translates_refs_seqs_and_errors(open_http: OpenHttp) -> None:
    """Drive HttpTransport directly: JOIN, CALLs, an unknown action, RESYNC, an unknown ref."""
    page = await open_http("counter")
    # The JOINED morph drops the lp-snapshot attribute: read the snapshot the runtime holds.
    await page.wait_for_function("[...window.livepy.components.values()].every((c) => c.joined)")
    result = await page.evaluate(
        """async () => {
          const { HttpTransport } = await import('/livepy/http.js');
          const { snapshotWire } = await import('/livepy/snapshot.js');
          const snap = [...window.livepy.components.values()][0].snapshot;
          const frames = [];
          let opened;
          const up = new Promise((resolve) => { opened = resolve; });
          const t = new HttpTransport(window.livepy.config, {
            onOpen: opened, onFrame: (f) => frames.push(f), onDown: () => {},
          });
          const until = async (n) => {
            while (frames.length < n) await new Promise((r) => setTimeout(r, 10));
          };
          t.connect();
          await up;
          t.send([1, [[snap.cid, snapshotWire(snap)]]]);
          await until(1);
          const ref = frames[0][2];
          t.send([2, ref, 1, {}, [['increment', [2]]]]);
          t.send([2, ref, 2, {}, [['increment', [3]]]]);
          t.send([2, ref, 3, {}, [['nope', []]]]);
          await until(4);
          t.send([8, ref]);
          t.send([2, 999, 1, {}, []]);
          await until(6);
          t.close();
          return frames.map((f) => f.map((x) => x instanceof Uint8Array ? 'bin' : x));
        }"""
    )
    joined, first, second, error, *rest = result
    assert joined[0] == 7 and joined[2] >= 1 and "count" in joined[3]
    ref = joined[2]
    assert first[:3] == [3, ref, 1] and ">5<" in first[3]  # full html, not a diff
    assert second[:3] == [3, ref, 2] and ">8<" in second[3]
    assert error[0] == 4 and error[1] == "unknown_action" and error[4] == 3
    resync = next(f for f in rest if f[0] == 3)
    assert resync[:3] == [3, ref, 2] and ">8<" in resync[3]
    unknown = next(f for f in rest if f[0] == 4)
    assert unknown[1] == "not_joined" and unknown[4] == 1
