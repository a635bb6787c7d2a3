"""Presence: who is online, per user, on one process or several joined by Redis."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any

import pytest
from starlette.applications import Starlette
from websockets.asyncio.client import ClientConnection, connect

from livepy import Component, LivePy, on_presence
from livepy.protocol import ErrorFrame
from tests.conftest import LiveServer, RedisServer, ServeFactory, page_app
from tests.protocol_client import ProtocolClient


class RoomMembers(Component):
    template_source = (
        "<div><b>{{ online|length }} online</b>: {{ online|map(attribute='name')|join(', ') }}"
        " | {{ log|join('; ') }}</div>"
    )
    room_id: int = 1
    online: list[dict[str, str]] = []
    log: list[str] = []

    @on_presence("presence-room.{room_id}")
    def here(self, members: list[dict[str, Any]]) -> None:
        self.online = sorted(({"name": m["name"]} for m in members), key=lambda m: m["name"])

    @on_presence("presence-room.{room_id}", "joining")
    def joining(self, member: dict[str, Any]) -> None:
        self.log.append(member["name"] + " joined")

    @on_presence("presence-room.{room_id}", "leaving")
    def leaving(self, member: dict[str, Any]) -> None:
        self.log.append(member["name"] + " left")


def make_app(broker: str = "memory://") -> tuple[Starlette, LivePy]:
    live = LivePy(
        templates=[],
        secret_key="k",
        broker=broker,
        user_resolver=lambda conn: conn.headers.get("x-user"),
    )

    @live.channel("room.{room_id}")
    def member_of_room(user: str | None, room_id: int) -> dict[str, Any] | None:
        return {"id": user, "name": user.title()} if user in ("alice", "bob") else None

    app = page_app(live, "room_members")
    return app, live


class Tab:
    def __init__(self, client: ProtocolClient, ws: ClientConnection) -> None:
        self.client, self.ws = client, ws

    @property
    def html(self) -> str:
        return self.client.held["room_members"].html

    async def until(self, text: str) -> None:
        async with asyncio.timeout(10):
            while text not in self.html:
                frame = await self.client.recv()
                assert not isinstance(frame, ErrorFrame), frame


Open = Callable[[LiveServer, str], Awaitable[Tab]]


@pytest.fixture
async def open_tab() -> AsyncIterator[Open]:
    stack = AsyncExitStack()
    tabs: list[Tab] = []

    async def open_(server: LiveServer, user: str) -> Tab:
        ws = await stack.enter_async_context(
            connect(server.ws_url + "/livepy/ws", additional_headers={"x-user": user})
        )
        client = ProtocolClient(ws)
        await client.load(server.url + "/")
        await client.join("room_members")
        tab = Tab(client, ws)
        tabs.append(tab)
        return tab

    async with stack:
        yield open_


async def test_members_per_user_not_per_tab(serve: ServeFactory, open_tab: Open) -> None:
    app, _ = make_app()
    server = await serve(app)
    alice = await open_tab(server, "alice")
    await alice.until("1 online</b>: Alice")
    bob = await open_tab(server, "bob")
    await bob.until("2 online</b>: Alice, Bob")
    await alice.until("2 online</b>: Alice, Bob | Bob joined")
    alice_again = await open_tab(server, "alice")  # a second tab of the same user
    await alice_again.until("2 online")
    await bob.ws.close()
    await alice.until("1 online</b>: Alice | Bob joined; Bob left")
    await alice_again.until("1 online</b>: Alice")
    assert "Alice joined" not in alice.html  # her second tab did not make her join again


async def test_refused_member_sees_nothing(serve: ServeFactory, open_tab: Open) -> None:
    app, _ = make_app()
    server = await serve(app)
    await open_tab(server, "alice")
    ws = await connect(server.ws_url + "/livepy/ws", additional_headers={"x-user": "eve"})
    try:
        eve = ProtocolClient(ws)
        await eve.load(server.url + "/")
        await eve.join("room_members")
        refusal = await eve.recv()
        assert isinstance(refusal, ErrorFrame) and refusal.code == "channel_forbidden"
        await ws.send(b"\x91\x05")
        assert type(await eve.recv()).__name__ == "Pong"
        assert "online" in eve.held["room_members"].html
        assert "Alice" not in eve.held["room_members"].html
    finally:
        await ws.close()


@pytest.mark.redis
async def test_presence_is_the_same_on_every_process_and_dead_ones_leave(
    serve: ServeFactory, open_tab: Open, redis_server: RedisServer
) -> None:
    url = redis_server.url + "?presence_ttl=1"
    app_one, live_one = make_app(url)
    app_two, live_two = make_app(url)
    one, two = await serve(app_one), await serve(app_two)
    try:
        alice = await open_tab(one, "alice")
        bob = await open_tab(two, "bob")
        await alice.until("2 online</b>: Alice, Bob")
        await bob.until("2 online</b>: Alice, Bob")
        # Process two dies without a word: its heartbeat stops, its sockets say nothing.
        backend = live_two.broadcaster.hub.backend
        heartbeat = backend._heartbeat  # type: ignore[attr-defined]
        assert heartbeat is not None
        heartbeat.cancel()
        live_two.broadcaster.hub.backend.presence_remove = _ignore  # type: ignore[method-assign]
        await alice.until("1 online</b>: Alice")
        assert "Bob left" in alice.html
        assert isinstance(alice.client.held["room_members"].renders[-1], list | str)
    finally:
        await live_one.broadcaster.stop()
        await live_two.broadcaster.stop()


async def _ignore(*args: Any) -> None:
    return None
