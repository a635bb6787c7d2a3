"""Two uvicorn processes joined by a real Redis: what the HTTP API and limits see is cluster-wide.

Each process serves ``make_app`` (the same app as the other Pusher tests) with the Redis broker;
pusher-js clients connect to one, the real ``pusher`` SDK asks the other.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pusher
import pytest

from tests.browser.processes import free_port
from tests.conftest import LiveServer, RedisServer
from tests.pusher.node import APP_ID, KEY, SECRET, NodeClient
from tests.pusher.test_webhooks import Receiver

pytestmark = [pytest.mark.node, pytest.mark.redis]

ROOT = Path(__file__).resolve().parents[2]
SERVER_SCRIPT = """
import json, sys
import uvicorn
from tests.pusher.test_pusher_js import make_app

app, live = make_app(sys.argv[2], **json.loads(sys.argv[3]))
ws = "livepy.pusher.lean:PusherWebSocketProtocol" if sys.argv[4] == "lean" else "websockets-sansio"
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", ws=ws,
            lifespan="on")
"""
START_S = 20.0


class Node:
    """One server process: ``make_app(redis_url, **options)`` under uvicorn."""

    def __init__(self, log: Path, ws: str) -> None:
        self.ws = ws
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self, redis_url: str, **options: Any) -> Node:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        with self.log.open("ab") as log:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-c", SERVER_SCRIPT, str(self.port), redis_url,
                json.dumps(options), self.ws, cwd=ROOT, stdout=log, stderr=log, env=env,
            )  # fmt: skip
        deadline = time.monotonic() + START_S
        async with httpx.AsyncClient() as client:
            while True:
                if self.proc.returncode is not None:
                    raise AssertionError(f"server exited early:\n{self.log.read_text()}")
                with contextlib.suppress(httpx.TransportError):
                    if (await client.get(self.url + "/up")).status_code == 200:
                        return self
                if time.monotonic() > deadline:
                    raise AssertionError(f"server did not start:\n{self.log.read_text()}")
                await asyncio.sleep(0.05)  # polling the readiness condition

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()

    def sdk(self) -> pusher.Pusher:
        return pusher.Pusher(
            app_id=APP_ID, key=KEY, secret=SECRET, host="127.0.0.1", port=self.port, ssl=False
        )

    async def client(self, nodes: list[NodeClient], user: str | None = None) -> NodeClient:
        args = [self.url + "/broadcasting/user-auth", self.url + "/broadcasting/auth"]
        client = await NodeClient.start(
            "user_client.mjs", "127.0.0.1", str(self.port), KEY, *args, *([user] if user else [])
        )
        nodes.append(client)
        await client.expect(of_type("connected"))
        return client


def of_type(kind: str, **fields: Any) -> Callable[[dict[str, Any]], bool]:
    return lambda m: m["type"] == kind and all(m.get(k) == v for k, v in fields.items())


async def call(function: Any, *args: Any) -> Any:
    return await asyncio.to_thread(function, *args)


async def eventually(probe: Callable[[], Any], expected: Any, within: float = 5.0) -> None:
    """Poll an SDK query until it answers ``expected`` (counts are written asynchronously)."""
    async with asyncio.timeout(within):
        while (answer := await call(probe)) != expected:  # noqa: ASYNC110 (cross-process)
            await asyncio.sleep(0.05)  # polling the cluster-wide condition
    assert answer == expected


@pytest.fixture
async def cluster(redis_server: RedisServer, tmp_path: Path) -> AsyncIterator[Callable[..., Any]]:
    started: list[Node] = []

    async def start(**options: Any) -> tuple[Node, Node]:
        # A serves pusher sockets with the lean protocol, B through ASGI: both must agree.
        pair = [Node(tmp_path / f"node{i}.log", ws) for i, ws in enumerate(("lean", "asgi"))]
        started.extend(pair)
        await asyncio.gather(*(node.start(redis_server.url, **options) for node in pair))
        return pair[0], pair[1]

    yield start
    for node in started:
        await node.stop()


async def subscribe(client: NodeClient, channel: str) -> None:
    await client.send(op="subscribe", channel=channel)
    await client.expect(of_type("subscribed", channel=channel))


async def test_channel_queries_see_every_process(
    cluster: Callable[..., Any], nodes: list[NodeClient]
) -> None:
    a, b = await cluster()
    on_a, on_b = await a.client(nodes, "ada"), await b.client(nodes, "bob")
    await subscribe(on_a, "news")
    await subscribe(on_b, "news")
    await subscribe(on_a, "presence-room.1")
    sdk = b.sdk()
    await eventually(
        lambda: sdk.channel_info("news", ["subscription_count"]),
        {"occupied": True, "subscription_count": 2},
    )
    assert await call(sdk.channels_info) == {"channels": {"news": {}, "presence-room.1": {}}}
    counted = await call(sdk.channels_info, "presence-", ["user_count"])
    assert counted == {"channels": {"presence-room.1": {"user_count": 1}}}
    assert await call(sdk.users_info, "presence-room.1") == {"users": [{"id": "ada"}]}
    await on_a.close()  # ada's process-A socket goes: B sees the channel lose her
    await eventually(
        lambda: sdk.channel_info("news", ["subscription_count"]),
        {"occupied": True, "subscription_count": 1},
    )
    await eventually(sdk.channels_info, {"channels": {"news": {}}})


async def test_terminate_and_send_to_user_across_processes(
    cluster: Callable[..., Any], nodes: list[NodeClient]
) -> None:
    a, b = await cluster()
    ada = await a.client(nodes, "ada")
    await ada.send(op="signin")
    assert (await ada.expect(of_type("signed_in")))["user"] == {"id": "ada"}
    sdk = b.sdk()
    # send_to_user on B reaches ada's #server-to-user-ada channel on A (pusher-js subscribes
    # to it after signin_success; the first delivery may race that subscribe, so retry).
    async with asyncio.timeout(5):
        while True:
            await call(lambda: sdk.send_to_user("ada", "Hello", {"n": 1}))
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(0.5):
                    hello = await ada.expect(of_type("user_event", event="Hello"))
                    break
    assert hello["data"] == {"n": 1}
    await call(sdk.terminate_user_connections, "ada")
    error = await ada.expect(of_type("connection_error"))
    assert error["error"]["code"] == 4009, error
    await ada.expect(of_type("state", state="disconnected"))  # 4009: pusher-js does not retry


async def test_connection_quota_counts_every_process(
    cluster: Callable[..., Any], nodes: list[NodeClient]
) -> None:
    a, b = await cluster(max_connections=2)
    await a.client(nodes)
    await b.client(nodes)
    third = await NodeClient.start("raw_client.mjs", "127.0.0.1", str(a.port), KEY)
    nodes.append(third)
    error = await third.expect(of_type("connection_error"))
    assert error["error"]["code"] == 4004, error
    await third.expect(of_type("state", state="disconnected"))


async def test_cache_channel_and_subscription_count_across_processes(
    cluster: Callable[..., Any], nodes: list[NodeClient]
) -> None:
    a, b = await cluster(subscription_count=True)
    first = await a.client(nodes)
    await subscribe(first, "cache-prices")
    await first.expect(of_type("cache_miss"))
    assert (await first.expect(of_type("count")))["count"] == 1
    # Triggered on B, which has no subscriber: A's late subscriber still gets it from history.
    await call(b.sdk().trigger, "cache-prices", "Price", {"p": 7})
    await first.expect(of_type("event", event="Price"))
    late = await b.client(nodes)
    await subscribe(late, "cache-prices")
    replayed = await late.expect(of_type("event", channel="cache-prices"))
    assert (replayed["event"], replayed["data"]) == ("Price", {"p": 7})
    assert (await first.expect(of_type("count")))["count"] == 2
    assert (await late.expect(of_type("count")))["count"] == 2


async def test_webhooks_report_occupancy_once_across_processes(
    cluster: Callable[..., Any], nodes: list[NodeClient]
) -> None:
    """A channel occupied on A then on B is one channel_occupied; it is vacated when the last
    subscriber, on B, leaves, not when A's does."""
    receiver = Receiver()
    hooks = await LiveServer(receiver.app).start()
    try:
        events = ["channel_occupied", "channel_vacated"]
        a, b = await cluster(webhooks=[hooks.url + "/hooks"], webhook_events=events)
        on_a, on_b = await a.client(nodes), await b.client(nodes)
        await subscribe(on_a, "news")
        await receiver.wait_for(lambda seen: len(seen) == 1)
        await subscribe(on_b, "news")
        await on_a.close()
        sdk = b.sdk()
        await eventually(
            lambda: sdk.channel_info("news", ["subscription_count"]),
            {"occupied": True, "subscription_count": 1},
        )
        await on_b.close()
        await receiver.wait_for(lambda seen: len(seen) == 2)
        assert [(e["name"], e["channel"]) for e in receiver.events] == [
            ("channel_occupied", "news"),
            ("channel_vacated", "news"),
        ]
    finally:
        await hooks.stop()
