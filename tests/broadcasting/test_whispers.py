"""Whispers from livepy pages: client events to the other members of private and presence
channels, relayed through the broker, rate limited, never echoed, refused on public channels."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any

import pytest
from starlette.applications import Starlette
from websockets.asyncio.client import ClientConnection, connect

from livepy import Component, Limits, LivePy, on
from livepy.protocol import constants as c
from livepy.protocol.frames import (
    ChannelEvent,
    Ping,
    Pong,
    Subscribe,
    Whisper,
    decode_server_frame,
    encode,
)
from livepy.pusher import PusherApp
from livepy.pusher.signing import channel_auth
from tests.conftest import LiveServer, RedisServer, ServeFactory, page_app
from tests.protocol_client import ProtocolClient

KEY, SECRET = "whisper-key", "whisper-secret"


class WhisperRoom(Component):
    """Shows who is typing: reacts to client-typing whispers on its presence channel."""

    template_source = "<div>typing: {{ typing|join(',') }}</div>"
    room_id: int = 1
    typing: list[str] = []

    @on("presence-room.{room_id}", "client-typing")
    def someone_types(self, event: dict[str, Any]) -> None:
        self.typing = [*self.typing, f"{event['user_id']}:{event['data']['n']}"]


def make_app(broker: str = "memory://", rate: float = 10) -> tuple[Starlette, LivePy]:
    live = LivePy(
        templates=[],
        secret_key="k",
        broker=broker,
        user_resolver=lambda conn: conn.headers.get("x-user"),
        limits=Limits(max_whispers_per_second=rate),
        pusher=[PusherApp("1", KEY, SECRET, client_events="members")],
    )

    @live.channel("room.{room_id}")
    def member_of_room(user: str | None, room_id: int) -> dict[str, Any] | None:
        return {"id": user} if user in ("ada", "bob") else None

    @live.channel("secret.{n}")
    def private_secret(user: str | None, n: int) -> bool:
        return user == "ada"

    return page_app(live, "whisper_room"), live


class Page:
    """One page's socket: frames read one at a time, channel events kept apart."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.client = ProtocolClient(ws)

    async def next(self) -> Any:
        async with asyncio.timeout(5):
            return await self.client.recv()

    async def event(self, channel: str) -> ChannelEvent:
        while True:
            frame = await self.next()
            if isinstance(frame, ChannelEvent) and frame.channel == channel:
                return frame

    async def subscribe(self, channel: str) -> ChannelEvent:
        await self.ws.send(encode(Subscribe(channel)))
        return await self.event(channel)

    async def whisper(self, channel: str, n: int, event: str = "typing") -> None:
        await self.ws.send(encode(Whisper(channel, event, {"n": n})))

    async def quiet(self) -> list[Any]:
        """Every frame received before the answer to a PING: proves what did not arrive."""
        await self.ws.send(encode(Ping()))
        seen = []
        while not isinstance(frame := await self.next(), Pong):
            seen.append(frame)
        return seen

    @property
    def html(self) -> str:
        return self.client.held["whisper_room"].html


Open = Callable[[LiveServer, str], Awaitable[Page]]


@pytest.fixture
async def open_page() -> AsyncIterator[Open]:
    async with AsyncExitStack() as stack:

        async def open_(server: LiveServer, user: str, join: bool = True) -> Page:
            ws = await stack.enter_async_context(
                connect(server.ws_url + "/livepy/ws", additional_headers={"x-user": user})
            )
            page = Page(ws)
            await page.client.load(server.url + "/")
            if join:
                await page.client.join("whisper_room")
            return page

        yield open_


async def until(page: Page, text: str) -> None:
    async with asyncio.timeout(5):
        while text not in page.html:
            await page.next()


async def test_whisper_reaches_other_members_and_never_the_sender(
    serve: ServeFactory, open_page: Open
) -> None:
    server = await serve(make_app()[0])
    ada, bob = await open_page(server, "ada"), await open_page(server, "bob")
    for page in (ada, bob):
        subscribed = await page.subscribe("presence-room.1")
        assert subscribed.event == "livepy:subscribed"
    await ada.whisper("presence-room.1", 7)
    event = await bob.event("presence-room.1")  # bob's JS listener: no server round trip
    assert (event.event, event.data) == ("client-typing", {"data": {"n": 7}, "user_id": "ada"})
    await until(bob, "typing: ada:7")  # bob's component reacted too
    seen = await ada.quiet()
    assert not any(isinstance(f, ChannelEvent) for f in seen)  # not echoed to ada's JS
    assert "ada:7" not in ada.html  # nor to ada's own component


async def test_whisper_is_refused_on_public_and_unauthorized_channels(
    serve: ServeFactory, open_page: Open
) -> None:
    server = await serve(make_app()[0])
    bob = await open_page(server, "bob", join=False)
    assert (await bob.subscribe("news")).event == "livepy:subscribed"
    await bob.whisper("news", 1)
    refused = await bob.event("news")
    assert refused.event == "livepy:error" and refused.data["code"] == c.ERR_WHISPER_REFUSED
    assert "private- and presence-" in refused.data["message"]
    denied = await bob.subscribe("private-secret.1")  # the rule allows ada only
    assert denied.event == "livepy:error" and denied.data["code"] == c.ERR_CHANNEL_FORBIDDEN
    await bob.whisper("private-secret.1", 1)
    refused = await bob.event("private-secret.1")
    assert refused.data["code"] == c.ERR_WHISPER_REFUSED
    await bob.whisper("presence-room.1", 1)  # allowed for bob, but this page never listened
    refused = await bob.event("presence-room.1")
    assert refused.data["code"] == c.ERR_WHISPER_REFUSED
    assert "subscribe first" in refused.data["message"]


async def test_whispers_over_the_rate_are_refused_without_a_disconnect(
    serve: ServeFactory, open_page: Open
) -> None:
    server = await serve(make_app(rate=10)[0])
    ada, bob = await open_page(server, "ada"), await open_page(server, "bob")
    await bob.subscribe("presence-room.1")
    await ada.subscribe("presence-room.1")
    for n in range(15):  # a burst: the bucket holds 10
        await ada.whisper("presence-room.1", n)
    errors = [f for f in await ada.quiet() if isinstance(f, ChannelEvent)]
    assert 4 <= len(errors) <= 5  # (one token may refill while the burst is sent)
    assert {e.data["code"] for e in errors} == {c.ERR_WHISPER_RATE_LIMITED}
    received = [
        (await bob.event("presence-room.1")).data["data"]["n"] for _ in range(15 - len(errors))
    ]
    assert received[:10] == list(range(10))
    assert not [f for f in await bob.quiet() if isinstance(f, ChannelEvent)]
    await asyncio.sleep(0.25)  # the bucket refills at 10 per second: about 2 more now
    await ada.whisper("presence-room.1", 99)
    assert (await bob.event("presence-room.1")).data["data"]["n"] == 99


async def test_whispers_over_the_size_limit_are_refused_without_a_disconnect(
    serve: ServeFactory, open_page: Open
) -> None:
    server = await serve(make_app()[0])
    ada, bob = await open_page(server, "ada"), await open_page(server, "bob")
    await bob.subscribe("presence-room.1")
    await ada.subscribe("presence-room.1")
    # 11 KB fits a 64 KiB frame but not pusher-js's 10 KB: refused, on the channel
    await ada.ws.send(encode(Whisper("presence-room.1", "typing", {"n": 1, "pad": "x" * 11000})))
    refused = await ada.event("presence-room.1")
    assert refused.event == "livepy:error" and refused.data["code"] == c.ERR_WHISPER_REFUSED
    assert "10240 bytes" in refused.data["message"]
    assert not [f for f in await bob.quiet() if isinstance(f, ChannelEvent)]
    await ada.ws.send(encode(Whisper("presence-room.1", "typing", {"n": 2, "pad": "x" * 9000})))
    assert (await bob.event("presence-room.1")).data["data"]["n"] == 2  # still connected


async def test_whisper_reaches_pusher_js_clients(serve: ServeFactory, open_page: Open) -> None:
    server = await serve(make_app()[0])
    ada = await open_page(server, "ada")
    await ada.subscribe("presence-room.1")
    async with connect(f"{server.ws_url}/app/{KEY}") as pusher:
        established = json.loads(await pusher.recv())
        socket_id = json.loads(established["data"])["socket_id"]
        channel_data = json.dumps({"user_id": "bob", "user_info": {"id": "bob"}})
        auth = channel_auth(KEY, SECRET, socket_id, "presence-room.1", channel_data)
        data = {"channel": "presence-room.1", "channel_data": channel_data, "auth": auth}
        await pusher.send(json.dumps({"event": "pusher:subscribe", "data": data}))
        assert "subscription_succeeded" in json.loads(await pusher.recv())["event"]
        await ada.whisper("presence-room.1", 3)
        async with asyncio.timeout(5):
            while (frame := json.loads(await pusher.recv()))["event"] != "client-typing":
                pass
        assert frame["data"] == {"n": 3} and frame["user_id"] == "ada"
        # and a pusher-js whisper reaches the livepy page, with the same envelope
        whisper = {"event": "client-typing", "channel": "presence-room.1", "data": {"n": 4}}
        await pusher.send(json.dumps(whisper))
        event = await ada.event("presence-room.1")
        assert event.data == {"data": {"n": 4}, "user_id": "bob"}


@pytest.mark.redis
async def test_whispers_cross_processes_through_redis(
    serve: ServeFactory, open_page: Open, redis_server: RedisServer
) -> None:
    app_one, live_one = make_app(redis_server.url)
    app_two, live_two = make_app(redis_server.url)
    one, two = await serve(app_one), await serve(app_two)
    try:
        ada, bob = await open_page(one, "ada"), await open_page(two, "bob")
        await ada.subscribe("presence-room.1")
        await bob.subscribe("presence-room.1")
        await ada.whisper("presence-room.1", 5)
        event = await bob.event("presence-room.1")
        assert event.data == {"data": {"n": 5}, "user_id": "ada"}
        await until(bob, "typing: ada:5")
        assert not [f for f in await ada.quiet() if isinstance(f, ChannelEvent)]
    finally:
        await live_one.broadcaster.stop()
        await live_two.broadcaster.stop()


def test_frames_round_trip() -> None:
    from livepy.protocol.frames import decode_client_frame

    frame = Whisper("presence-room.1", "typing", {"n": 1})
    assert decode_client_frame(encode(frame)) == frame
    assert decode_client_frame(encode(Subscribe("a"))) == Subscribe("a")
    event = ChannelEvent("a", "client-x", None)
    assert decode_server_frame(encode(event)) == event
