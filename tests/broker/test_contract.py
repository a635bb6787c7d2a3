"""One contract, every backend: the memory broker and a real redis-server."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import pytest_asyncio

from livepy.broker import BrokerBackend, Delivery, MemoryBackend
from tests.conftest import RedisServer, require_real


class Inbox:
    def __init__(self) -> None:
        self.items: list[Delivery] = []
        self.changed = asyncio.Event()

    async def __call__(self, delivery: Delivery) -> None:
        self.items.append(delivery)
        self.changed.set()

    async def wait_for(self, count: int, within: float = 10) -> list[Delivery]:
        async with asyncio.timeout(within):
            while len(self.items) < count:
                self.changed.clear()
                await self.changed.wait()
        return self.items


Factory = Callable[..., BrokerBackend]


@pytest_asyncio.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def make_backend(request: pytest.FixtureRequest, tmp_path: Any) -> AsyncIterator[Factory]:
    created: list[BrokerBackend] = []
    server: RedisServer | None = None
    if request.param == "memory":
        shared = MemoryBackend(history_size=5)

        def factory(**_: Any) -> BrokerBackend:
            return shared  # one process: every "node" is the same backend

    else:
        if shutil.which("redis-server") is None:
            require_real("redis-server")
        server = RedisServer(str(tmp_path))
        await server.start()
        url = server.url
        from livepy.broker.redis import RedisBackend

        def factory(**options: Any) -> BrokerBackend:
            backend = RedisBackend(url, history_size=5, **options)
            created.append(backend)
            return backend

    yield factory
    for backend in created:
        await backend.stop()
    if server is not None:
        await server.stop()


async def started(factory: Factory, **options: Any) -> tuple[BrokerBackend, Inbox]:
    backend = factory(**options)
    inbox = Inbox()
    await backend.start(inbox)
    return backend, inbox


async def test_publish_reaches_subscribers_in_order(make_backend: Factory) -> None:
    backend, inbox = await started(make_backend)
    await backend.subscribe("orders")
    for i in range(3):
        await backend.publish("orders", b"\x00\xff" + bytes([i]))
    await backend.publish("other", b"not for us")
    items = await inbox.wait_for(3)
    assert [d.payload for d in items] == [b"\x00\xff\x00", b"\x00\xff\x01", b"\x00\xff\x02"]
    assert [int(d.offset) for d in items] == [1, 2, 3]
    assert all(d.channel == "orders" for d in items)


async def test_unsubscribe_stops_delivery(make_backend: Factory) -> None:
    backend, inbox = await started(make_backend)
    await backend.subscribe("a")
    await backend.subscribe("b")
    await backend.unsubscribe("a")
    await backend.publish("a", b"1")
    await backend.publish("b", b"2")
    items = await inbox.wait_for(1)
    assert [d.payload for d in items] == [b"2"]


async def test_history_after_an_offset(make_backend: Factory) -> None:
    backend, _ = await started(make_backend)
    offsets = [(await backend.publish("h", bytes([i])))[1] for i in range(4)]
    epoch = (await backend.publish("h", b"\x04"))[0]
    missed = await backend.history("h", epoch, offsets[1])
    assert missed is not None and [d.payload for d in missed] == [b"\x02", b"\x03", b"\x04"]
    assert await backend.history("h", epoch, "5") == []


async def test_recent_gives_the_newest_kept_messages(make_backend: Factory) -> None:
    """Cache channels read their last event here, whichever process published it."""
    backend, _ = await started(make_backend)
    assert await backend.recent("r", 3) == []
    for i in range(8):  # history keeps 5
        await backend.publish("r", bytes([i]))
    newest = await backend.recent("r", 3)
    assert [(d.payload, d.offset) for d in newest] == [
        (b"\x05", "6"),
        (b"\x06", "7"),
        (b"\x07", "8"),
    ]
    assert [d.payload for d in await backend.recent("r", 50)] == [bytes([i]) for i in range(3, 8)]


async def test_history_says_when_recovery_is_impossible(make_backend: Factory) -> None:
    backend, _ = await started(make_backend)
    for i in range(8):  # history keeps 5
        epoch, _ = await backend.publish("t", bytes([i]))
    assert await backend.history("t", epoch, "1") is None
    assert await backend.history("t", "another-epoch", "7") is None
    assert await backend.history("t", epoch, "99") is None
    recent = await backend.history("t", epoch, "3")
    assert recent is not None and [d.payload for d in recent] == [bytes([i]) for i in range(3, 8)]


async def test_presence_is_shared_and_keyed(make_backend: Factory) -> None:
    one, _ = await started(make_backend)
    two, _ = await started(make_backend)
    await one.presence_set("presence-room", "c1", b"alice")
    await two.presence_set("presence-room", "c2", b"bob")
    for backend in (one, two):
        members = await backend.presence_members("presence-room")
        assert sorted(members.values()) == [b"alice", b"bob"]
    await one.presence_remove("presence-room", "c1")
    assert sorted((await two.presence_members("presence-room")).values()) == [b"bob"]


@pytest.mark.redis
async def test_two_processes_share_pubsub(redis_server: RedisServer) -> None:
    from livepy.broker.redis import RedisBackend

    one, two = RedisBackend(redis_server.url), RedisBackend(redis_server.url)
    inbox_one, inbox_two = Inbox(), Inbox()
    await one.start(inbox_one)
    await two.start(inbox_two)
    try:
        await one.subscribe("room")
        await two.subscribe("room")
        await one.publish("room", b"hello")
        assert [d.payload for d in await inbox_two.wait_for(1)] == [b"hello"]
        assert [d.payload for d in await inbox_one.wait_for(1)] == [b"hello"]
    finally:
        await one.stop()
        await two.stop()


@pytest.mark.redis
async def test_dead_process_members_disappear(redis_server: RedisServer) -> None:
    from livepy.broker.redis import RedisBackend

    dying = RedisBackend(redis_server.url, presence_ttl=0.3)
    alive = RedisBackend(redis_server.url, presence_ttl=0.3)
    await dying.start(Inbox())
    await alive.start(Inbox())
    try:
        await dying.presence_set("presence-x", "c1", b"ghost")
        await alive.presence_set("presence-x", "c2", b"me")
        assert len(await alive.presence_members("presence-x")) == 2
        assert dying._heartbeat is not None
        dying._heartbeat.cancel()  # the process dies: its heartbeat stops
        async with asyncio.timeout(5):
            while len(await alive.presence_members("presence-x")) != 1:  # noqa: ASYNC110
                await asyncio.sleep(0.05)  # Redis expires the key; there is no event to await
        assert list((await alive.presence_members("presence-x")).values()) == [b"me"]
    finally:
        await dying.stop()
        await alive.stop()


@pytest.mark.redis
async def test_redis_restart_fails_fast_then_recovers_without_loss(
    redis_server: RedisServer,
) -> None:
    from livepy.broker import BrokerError
    from livepy.broker.redis import RedisBackend

    publisher = RedisBackend(redis_server.url, publish_timeout=0.5)
    subscriber = RedisBackend(redis_server.url)
    inbox = Inbox()
    await publisher.start(Inbox())
    await subscriber.start(inbox)
    try:
        await subscriber.subscribe("feed")
        await publisher.publish("feed", b"before")
        await inbox.wait_for(1)
        await redis_server.stop(9)
        with pytest.raises(BrokerError, match="unreachable"):
            await publisher.publish("feed", b"during")
        await redis_server.start()
        # The first publishes after the restart race the subscriber's reconnect; history
        # replay must still deliver each of them exactly once and in order.
        async with asyncio.timeout(10):
            while True:
                try:
                    await publisher.publish("feed", b"after-1")
                    break
                except BrokerError:
                    await asyncio.sleep(0.05)  # polling until the publisher reconnects
        await publisher.publish("feed", b"after-2")
        items = await inbox.wait_for(3, within=15)
        assert [d.payload for d in items] == [b"before", b"after-1", b"after-2"]
    finally:
        await publisher.stop()
        await subscriber.stop()
