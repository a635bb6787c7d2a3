"""Recovery end to end: real uvicorn processes serving the examples are killed, restarted and
swapped under a page in real Chromium. State comes back from the snapshots the page holds, with
no reload, and what the user typed meanwhile is kept and reaches the server.

Every server process is a subprocess with the same LIVEPY_SECRET_KEY (tests/browser/processes.py).
"""

from __future__ import annotations

import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from tests.browser.processes import ServerProcess, TcpProxy, free_port

pytestmark = pytest.mark.browser

StartServer = Callable[..., Awaitable[ServerProcess]]

RECONNECT_MS = 30_000  # a restart plus the backoff (capped at 10 s) in the worst case
RECORD_EVENTS = """
window.__events = [];
for (const name of ["lp:connected", "lp:disconnected", "lp:reconnected"]) {
  window.addEventListener(name, (e) => {
    window.__events.push(name);
    if (e.detail?.code) window.__closeCodes = [...(window.__closeCodes ?? []), e.detail.code];
  });
}
"""
# A layout-level banner, outside any component, as an app would put in its base template.
BANNER = """document.body.insertAdjacentHTML(
  "beforeend", '<div id="offline-banner" lp-offline>You are offline</div>')"""
DRAFT = "input[name=draft]"
TODOS = "document.querySelectorAll('.todos li span')"


@pytest_asyncio.fixture
async def start_server(tmp_path: Path) -> AsyncIterator[StartServer]:
    """Start server processes (on a given port, or a free one); all are killed afterwards."""
    started: list[ServerProcess] = []

    async def start(port: int | None = None) -> ServerProcess:
        log = tmp_path / f"server-{len(started)}.log"
        server = ServerProcess(port or free_port(), log)
        started.append(server)
        return await server.start()

    yield start
    for server in started:
        await server.stop()


@pytest_asyncio.fixture
async def proxy() -> AsyncIterator[Callable[[int], Awaitable[TcpProxy]]]:
    proxies: list[TcpProxy] = []

    async def start(target: int) -> TcpProxy:
        proxies.append(await TcpProxy(target).start())
        return proxies[-1]

    yield start
    for p in proxies:
        await p.stop()


async def open_live(page: Any, url: str) -> Any:
    """Open `url`, wait until its components are joined, mark the page against reloads."""
    await page.add_init_script(RECORD_EVENTS)
    await page.goto(url)
    await page.wait_for_function(
        "window.livepy?.connected && [...window.livepy.components.values()].every((c) => c.joined)"
    )
    await page.evaluate(BANNER)
    await page.evaluate("window.__no_reload = true")
    return page


async def second_page(page: Any) -> tuple[Any, list[str]]:
    """Another tab in the same browser context; its uncaught errors are collected."""
    other = await page.context.new_page()
    errors: list[str] = []
    other.on("pageerror", lambda exc: errors.append(str(exc)))
    return other, errors


async def wait_event(page: Any, name: str, count: int = 1, within_ms: int = RECONNECT_MS) -> None:
    await page.wait_for_function(
        f"window.__events.filter((n) => n === '{name}').length >= {count}", timeout=within_ms
    )


async def wait_joined(page: Any, within_ms: int = RECONNECT_MS) -> None:
    await page.wait_for_function(
        "window.livepy.connected && [...window.livepy.components.values()].every((c) => c.joined)",
        timeout=within_ms,
    )


async def count_is(page: Any, value: int) -> None:
    await page.wait_for_function(f"document.querySelector('.count').textContent === '{value}'")


async def click_to(page: Any, value: int) -> None:
    """Click + until the counter (starting at 3) shows `value`."""
    start = int(await page.text_content(".count"))
    for _ in range(value - start):
        await page.click("button[aria-label=increment]")
    await count_is(page, value)


async def add_todo(page: Any, text: str) -> None:
    before = await page.evaluate(f"{TODOS}.length")
    await page.fill(DRAFT, text)
    await page.press(DRAFT, "Enter")
    await page.wait_for_function(f"{TODOS}.length === {before + 1}")


async def todo_texts(page: Any) -> list[str]:
    return await page.evaluate(f"[...{TODOS}].map((s) => s.textContent)")


async def test_killed_server_restarts_and_pages_resume(
    page: Any, start_server: StartServer
) -> None:
    port = free_port()
    server = await start_server(port)
    counter = await open_live(page, server.url + "/counter/")
    await click_to(counter, 7)
    todos, todo_errors = await second_page(page)
    await open_live(todos, server.url + "/todos/")
    await add_todo(todos, "milk")
    await add_todo(todos, "bread")
    await todos.click("input[aria-label='toggle milk']")
    await todos.wait_for_function("document.querySelector('.remaining').textContent === '1 left'")

    await server.kill()
    await wait_event(counter, "lp:disconnected")
    await wait_event(todos, "lp:disconnected")
    # typed while the server is down: the .live debounce fires, and the value waits, unsent
    await todos.locator(DRAFT).press_sequentially("eggs")
    await todos.wait_for_function(
        """() => { const c = [...window.livepy.components.values()][0];
                   return c.busy && c.unsentValue('draft').value === 'eggs'; }"""
    )
    assert "eggs" not in await todos.text_content(".preview")

    await start_server(port)  # a fresh process on the same port, with the same key
    await wait_event(counter, "lp:reconnected")
    await wait_event(todos, "lp:reconnected")
    await wait_joined(counter)
    await wait_joined(todos)
    # the typed text reached the new process, and the field still holds it
    await todos.wait_for_function("document.querySelector('.preview').textContent.includes('eggs')")
    assert await todos.input_value(DRAFT) == "eggs"
    # every bit of state is back, on a process that never saw this page before
    await count_is(counter, 7)
    await counter.click("button[aria-label=increment]")
    await count_is(counter, 8)
    assert await todo_texts(todos) == ["milk", "bread"]
    assert await todos.evaluate("document.querySelector('li[lp-key=\"1\"]').className") == "done"
    await todos.press(DRAFT, "Enter")
    await todos.wait_for_function(f"{TODOS}.length === 3")
    assert await todo_texts(todos) == ["milk", "bread", "eggs"]
    assert await todos.text_content(".remaining") == "2 left"
    for p in (counter, todos):
        assert await p.evaluate("window.__no_reload") is True
        assert await p.evaluate("window.__closeCodes") == [1006]  # no close frame: killed
        assert await p.evaluate("window.__events") == [
            "lp:connected",
            "lp:disconnected",
            "lp:reconnected",
        ]
    assert not todo_errors


async def test_page_moves_to_another_process(
    page: Any, start_server: StartServer, proxy: Callable[[int], Awaitable[TcpProxy]]
) -> None:
    """A rolling deploy: the proxy sends new connections to the second process, then the first
    one is stopped with SIGTERM (it drains: its sockets close with 1012, "reconnect elsewhere")."""
    first = await start_server()
    second = await start_server()
    front = await proxy(first.port)
    counter = await open_live(page, front.url + "/counter/")
    await click_to(counter, 7)
    todos, todo_errors = await second_page(page)
    await open_live(todos, front.url + "/todos/")
    await add_todo(todos, "write tests")
    await add_todo(todos, "ship")
    await todos.click("input[aria-label='toggle ship']")
    await todos.wait_for_function("document.querySelector('.remaining').textContent === '1 left'")

    front.point_to(second.port)
    await first.signal(signal.SIGTERM)
    # drained, then exited as uvicorn does on SIGTERM (re-raising the signal): gone for good
    assert await first.wait() in (0, -signal.SIGTERM)
    await wait_event(counter, "lp:reconnected", within_ms=10_000)  # 1012: back within a second
    await wait_event(todos, "lp:reconnected", within_ms=10_000)
    await wait_joined(counter)
    await wait_joined(todos)
    for p in (counter, todos):
        assert await p.evaluate("window.__closeCodes") == [1012]  # "reconnect elsewhere"
    await count_is(counter, 7)
    await counter.click("text=+5")
    await count_is(counter, 12)
    assert await todo_texts(todos) == ["write tests", "ship"]
    await add_todo(todos, "celebrate")
    assert await todos.text_content(".remaining") == "2 left"
    for p in (counter, todos):
        assert await p.evaluate("window.__no_reload") is True
    assert not todo_errors


async def test_offline_banner_events_and_a_lost_call(page: Any, start_server: StartServer) -> None:
    port = free_port()
    server = await start_server(port)
    counter = await open_live(page, server.url + "/counter/")
    banner = counter.locator("#offline-banner")
    assert not await banner.is_visible()
    assert await counter.evaluate("window.__events") == ["lp:connected"]
    # a slow action is in flight when the server dies: its reply is lost
    await counter.click("text=+1 slowly")
    await counter.wait_for_function("[...window.livepy.components.values()][0].inflight !== null")
    await server.kill()
    await banner.wait_for(state="visible")
    await wait_event(counter, "lp:disconnected")
    assert await counter.text_content(".count") == "3"
    await start_server(port)
    await wait_event(counter, "lp:reconnected")
    await banner.wait_for(state="hidden")
    # the lost call was sent again after the rejoin, once
    await count_is(counter, 4)
    await counter.click("button[aria-label=increment]")
    await count_is(counter, 5)
    assert await counter.evaluate("window.__events") == [
        "lp:connected",
        "lp:disconnected",
        "lp:reconnected",
    ]
