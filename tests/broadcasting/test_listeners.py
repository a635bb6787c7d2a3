"""Broadcasts re-render every subscribed component, over real sockets, with authorization."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import HTTPConnection
from websockets.asyncio.client import connect

from livepy import Component, LivePy, action, on
from livepy.broadcasting import BroadcastEvent, SensitiveDataError
from livepy.protocol import ErrorFrame, Reply
from livepy.protocol import constants as c
from tests.conftest import LiveServer, RedisServer, ServeFactory, page_app
from tests.protocol_client import ProtocolClient


class TrackedOrder(Component):
    template_source = "<div>order {{ order_id }}: {{ status }}</div>"
    order_id: int = 1
    status: str = "pending"

    @on("orders.{order_id}", "StatusChanged")
    def changed(self, event: dict[str, Any]) -> None:
        self.status = event["status"]

    @on("private-orders.{order_id}", "Shipped")
    def shipped(self, event: dict[str, Any]) -> None:
        self.status = "shipped to " + event["to"]

    @action
    def follow(self, order_id: int) -> None:
        self.order_id = order_id

    @action
    def announce(self, status: str) -> None:
        self.status = status
        self.broadcast(f"orders.{self.order_id}", "StatusChanged", {"status": status}).to_others()


def user_from_header(conn: HTTPConnection) -> str | None:
    return conn.headers.get("x-user") or conn.query_params.get("user")


def make_app(broker: str = "memory://") -> tuple[Starlette, LivePy]:
    live = LivePy(templates=[], secret_key="k", broker=broker, user_resolver=user_from_header)

    @live.channel("orders.{order_id}")
    def owns_order(user: str | None, order_id: int) -> bool:
        return user == "alice" and order_id in (1, 2)

    app = page_app(live, "tracked_order")
    return app, live


Connect = Callable[..., Awaitable[ProtocolClient]]


async def clients(stack: AsyncExitStack, server: LiveServer) -> Connect:
    async def open_client(user: str | None = None, join: bool = True) -> ProtocolClient:
        headers = {"x-user": user} if user else {}
        ws = await stack.enter_async_context(
            connect(server.ws_url + "/livepy/ws", additional_headers=headers)
        )
        client = ProtocolClient(ws)
        await client.load(server.url + "/")
        if join:
            await client.join("tracked_order")
            if user != "alice":  # only alice may listen on private-orders.1
                refusal = await client.recv()
                assert isinstance(refusal, ErrorFrame), refusal
                assert refusal.code == c.ERR_CHANNEL_FORBIDDEN
                assert refusal.cid == client.held["tracked_order"].cid
                assert "private-orders.1" in refusal.message
        return client

    return open_client


async def pushed(client: ProtocolClient) -> Any:
    async with asyncio.timeout(5):
        return await client.recv()


async def nothing_pushed(client: ProtocolClient) -> None:
    """Prove the absence of a push: a ping's pong must be the very next frame."""
    await client.ws.send(b"\x91\x05")
    async with asyncio.timeout(5):
        frame = await client.recv()
    assert type(frame).__name__ == "Pong", frame


@pytest.fixture
async def stack() -> AsyncIterator[AsyncExitStack]:
    async with AsyncExitStack() as stack:
        yield stack


async def test_public_broadcast_rerenders_every_subscriber(
    serve: ServeFactory, stack: AsyncExitStack
) -> None:
    app, live = make_app()
    open_client = await clients(stack, await serve(app))
    first, second = await open_client(), await open_client()
    await live.broadcast("orders.1", "StatusChanged", {"status": "packed"})
    for client in (first, second):
        reply = await pushed(client)
        assert isinstance(reply, Reply) and reply.seq == 0
        assert "order 1: packed" in client.held["tracked_order"].html
        client.verify("tracked_order", live.snapshots)
    await live.broadcast("orders.2", "StatusChanged", {"status": "other order"})
    await nothing_pushed(first)


async def test_subscription_follows_the_state(serve: ServeFactory, stack: AsyncExitStack) -> None:
    app, live = make_app()
    client = await (await clients(stack, await serve(app)))()
    await client.call("tracked_order", ("follow", (7,)))
    refusal = await client.recv()  # the private channel moved too, and is refused again
    assert isinstance(refusal, ErrorFrame) and "private-orders.7" in refusal.message
    await live.broadcast("orders.1", "StatusChanged", {"status": "old"})
    await nothing_pushed(client)
    await live.broadcast("orders.7", "StatusChanged", {"status": "new"})
    await pushed(client)
    assert "order 7: new" in client.held["tracked_order"].html


async def test_private_channel_needs_authorization(
    serve: ServeFactory, stack: AsyncExitStack
) -> None:
    app, live = make_app()
    open_client = await clients(stack, await serve(app))
    alice = await open_client("alice")
    mallory = await open_client("mallory")  # refused private-orders.1, checked in open_client
    await live.broadcast("private-orders.1", "Shipped", {"to": "Lyon"})
    await pushed(alice)
    assert "shipped to Lyon" in alice.held["tracked_order"].html
    await nothing_pushed(mallory)
    assert "shipped" not in mallory.held["tracked_order"].html


async def test_to_others_skips_only_the_sender(serve: ServeFactory, stack: AsyncExitStack) -> None:
    app, _ = make_app()
    open_client = await clients(stack, await serve(app))
    sender, other = await open_client(), await open_client()
    reply = await sender.call("tracked_order", ("announce", ("on its way",)))
    assert isinstance(reply, Reply)
    await pushed(other)
    assert "on its way" in other.held["tracked_order"].html
    await nothing_pushed(sender)


async def test_broadcast_sync_from_a_thread(serve: ServeFactory, stack: AsyncExitStack) -> None:
    app, live = make_app()
    client = await (await clients(stack, await serve(app)))()
    await live.broadcast("orders.1", "StatusChanged", {"status": "warm-up"})
    await pushed(client)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            live.broadcast_sync("orders.1", "StatusChanged", {"status": "from a thread"})
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=worker)
    thread.start()
    await pushed(client)
    await asyncio.to_thread(thread.join)
    assert not errors
    assert "from a thread" in client.held["tracked_order"].html


@dataclasses.dataclass
class PaymentReceived(BroadcastEvent):
    order_id: int
    card_number: str
    sensitive = frozenset({"card_number"})

    def broadcast_on(self) -> str:
        return f"orders.{self.order_id}"


async def test_sensitive_fields_never_reach_public_channels() -> None:
    _, live = make_app()
    with pytest.raises(SensitiveDataError, match="card_number"):
        await live.broadcast(PaymentReceived(1, "4111"))


@pytest.mark.redis
async def test_broadcast_crosses_processes_through_redis(
    serve: ServeFactory, stack: AsyncExitStack, redis_server: RedisServer
) -> None:
    app_one, live_one = make_app(redis_server.url)
    app_two, live_two = make_app(redis_server.url)
    on_one = await (await clients(stack, await serve(app_one)))()
    on_two = await (await clients(stack, await serve(app_two)))()
    try:
        await live_one.broadcast("orders.1", "StatusChanged", {"status": "via redis"})
        for client in (on_one, on_two):
            await pushed(client)
            assert "via redis" in client.held["tracked_order"].html
    finally:
        await live_one.broadcaster.stop()
        await live_two.broadcaster.stop()


class Relay(Component):
    template_source = "<div>{{ hops }}</div>"
    hops: int = 0

    @on("relay-in", "Ping")
    def forward(self, data: dict[str, Any]) -> None:
        self.hops += 1
        self.broadcast("relay-out", "Pong", {"hops": self.hops})

    @action
    def send_garbage(self) -> None:
        self.broadcast("relay-out", "Bad", {"when": object()})


async def test_listener_broadcasts_are_sent_and_bad_data_is_refused(serve: ServeFactory) -> None:
    live = LivePy(templates=[], secret_key="k")
    app = page_app(live, "relay")
    server = await serve(app)
    heard: list[Any] = []
    got = asyncio.Event()

    async def listener(event: Any) -> None:
        heard.append(event.data)
        got.set()

    await live.broadcaster.hub.listen("relay-out", listener)
    async with connect(server.ws_url + "/livepy/ws") as ws:
        client = ProtocolClient(ws)
        await client.load(server.url + "/")
        await client.join("relay")
        await live.broadcast("relay-in", "Ping", {})
        async with asyncio.timeout(5):
            await got.wait()
            await client.recv()
        assert heard == [{"hops": 1}]
        error = await client.call("relay", ("send_garbage", ()))
        assert isinstance(error, ErrorFrame) and error.code == c.ERR_COMPONENT_ERROR
        await nothing_pushed(client)  # and the connection is still here


def test_redis_urls_are_redacted_in_logs() -> None:
    from livepy.broker.redis import _redacted

    assert _redacted("redis://:s3cret@host:6379/0") == "redis://:***@host:6379/0"
    assert _redacted("redis://user:pw@host/0") == "redis://user:***@host/0"
    assert _redacted("redis://host/0") == "redis://host/0"
