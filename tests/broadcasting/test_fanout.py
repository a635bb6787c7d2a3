"""Render-once fan-out: same class and state render once per broadcast; anything else as before."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any

import pytest
from websockets.asyncio.client import connect

from livepy import Component, LivePy, on
from livepy.protocol import Reply
from tests.conftest import LiveServer, ServeFactory, page_app
from tests.protocol_client import ProtocolClient


@pytest.fixture
def serve(serve_each: ServeFactory) -> ServeFactory:
    """Every test here runs as `livepy serve` serves the app and through plain ASGI."""
    return serve_each


class FanTicker(Component):
    template_source = "<p>{{ label }}: {{ value }}</p>"
    label: str = "tick"
    value: int = 0

    @on("fan", "Tick")
    def tick(self, event: dict[str, Any]) -> None:
        self.value = event["value"]


class FanPrintsId(Component):
    template_source = '<p>{{ value }} <span id="x-{{ this.id }}"></span></p>'
    value: int = 0

    @on("fan", "Tick")
    def tick(self, event: dict[str, Any]) -> None:
        self.value = event["value"]


class FanPrivate(Component):
    """Renders something that is not in its state: must opt out, and does."""

    template_source = "<p>{{ value }} {{ this.secret }}</p>"
    shared_render = False
    value: int = 0

    @on("fan", "Tick")
    def tick(self, event: dict[str, Any]) -> None:
        self.value = event["value"]
        self.secret = f"for {self.id}"


Open = Callable[[LiveServer, str], Awaitable[ProtocolClient]]


@pytest.fixture
async def open_page() -> AsyncIterator[Open]:
    async with AsyncExitStack() as stack:

        async def open_(server: LiveServer, name: str) -> ProtocolClient:
            ws = await stack.enter_async_context(connect(server.ws_url + "/livepy/ws"))
            client = ProtocolClient(ws)
            await client.load(server.url + "/")
            await client.join(name)
            return client

        yield open_


async def until_value(client: ProtocolClient, name: str, text: str) -> None:
    async with asyncio.timeout(5):
        while text not in client.held[name].html:
            frame = await client.recv()
            assert isinstance(frame, Reply), frame


def serve_one(name: str) -> tuple[Any, LivePy]:
    live = LivePy(templates=[], secret_key="k")
    return page_app(live, name), live


async def test_same_state_renders_once_and_each_page_gets_its_own_id(
    serve: ServeFactory, open_page: Open
) -> None:
    app, live = serve_one("fan_ticker")
    server = await serve(app)
    pages = [await open_page(server, "fan_ticker") for _ in range(5)]
    renders = live.broadcaster.renders
    before = renders.renders
    await live.broadcast("fan", "Tick", {"value": 7})
    for page in pages:
        await until_value(page, "fan_ticker", "tick: 7")
        held = page.held["fan_ticker"]
        assert f'lp-id="{held.cid}"' in held.html  # its own id, not the first page's
        page.verify("fan_ticker", live.snapshots)  # its own snapshot, patched in step
    assert renders.renders - before == 1 and renders.shared >= 4


async def test_per_page_state_renders_each(serve: ServeFactory, open_page: Open) -> None:
    app, live = serve_one("fan_ticker")
    server = await serve(app)
    pages = [await open_page(server, "fan_ticker") for _ in range(4)]
    for n, page in enumerate(pages):  # every page gets a state of its own
        await page.call("fan_ticker", label=f"page{n}")
    renders = live.broadcaster.renders
    before, shared = renders.renders, renders.shared
    await live.broadcast("fan", "Tick", {"value": 3})
    for n, page in enumerate(pages):
        await until_value(page, "fan_ticker", f"page{n}: 3")
    assert renders.renders - before == 4 and renders.shared == shared


@pytest.mark.parametrize("name", ["fan_prints_id", "fan_private"])
async def test_renders_that_depend_on_more_than_state_are_not_shared(
    serve: ServeFactory, open_page: Open, name: str
) -> None:
    app, live = serve_one(name)
    server = await serve(app)
    pages = [await open_page(server, name) for _ in range(3)]
    await live.broadcast("fan", "Tick", {"value": 5})
    for page in pages:
        cid = page.held[name].cid
        await until_value(page, name, ">5 ")
        html = page.held[name].html
        assert (f"x-{cid}" in html) if name == "fan_prints_id" else (f"for {cid}" in html), html
    assert live.broadcaster.renders.shared == 0


def test_entries_are_bounded_and_expire() -> None:
    from livepy.fanout import SharedRenders

    class Renderer:
        def render_html(self, instance: Component) -> str:
            return f'<p lp-id="{instance.id}">{instance.value}</p>'  # type: ignore[attr-defined]

    shared = SharedRenders(ttl=60, max_entries=3)
    events = [object() for _ in range(5)]
    for event in events:
        instance = FanTicker()
        instance.id = "abc"
        shared.render(Renderer(), instance, event)  # type: ignore[arg-type]
    assert len(shared._entries) == 3
    late = FanTicker()
    late.id = "xyz"
    html, state, _ = shared.render(Renderer(), late, events[-1])  # type: ignore[arg-type]
    assert html == '<p lp-id="xyz">0</p>' and shared.shared == 1
    assert state == late.snapshot_state()
    shared.ttl = 0.0
    shared.render(Renderer(), late, events[-1])  # type: ignore[arg-type]
    assert shared.shared == 1  # expired: rendered again


def test_diffs_are_shared_between_ids_and_stay_correct() -> None:
    import msgpack

    from livepy.fanout import SharedRenders
    from livepy.protocol import apply_diff

    shared = SharedRenders()

    def diff_of(before: str, after: str, cid: str) -> Any:
        return msgpack.unpackb(b"".join(shared.encoded_diff(before, after, cid, None)))

    rows = "".join(f"<li>row {i}</li>" for i in range(30))

    def page(cid: str, n: int) -> str:
        return f'<div lp-id="{cid}"><b>{n}</b><ul>{rows}</ul><i>{n * 7}</i></div>'

    for cid in ("aaaa1111", "bbbb2222", "cccc3333"):
        diff = diff_of(page(cid, 1), page(cid, 2), cid)
        assert diff is not None and apply_diff(page(cid, 1), diff) == page(cid, 2)
    assert shared.diffs_shared == 2
    # An edit whose inserted text holds the id is never cached: each gets its own diff.
    for cid in ("dddd4444", "eeee5555"):
        before = f'<div lp-id="{cid}">{rows}<p>1</p></div>'
        after = f'<div lp-id="{cid}">{rows}<p>1<a href="#{cid}"></a></p></div>'
        diff = diff_of(before, after, cid)
        assert diff is not None and apply_diff(before, diff) == after
    assert shared.diffs_shared == 2
