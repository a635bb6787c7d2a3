"""Pusher webhooks, received by a local Starlette app that checks each body with the real
`pusher` SDK's ``validate_webhook``."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any

import pusher
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from websockets.asyncio.client import connect

from livepy.exceptions import ConfigurationError
from livepy.pusher import PusherApp, PusherApps, webhooks
from livepy.pusher.webhooks import WEBHOOK_EVENTS, WebhookQueue
from tests.conftest import LiveServer, ServeFactory
from tests.pusher.node import APP_ID, KEY, SECRET
from tests.pusher.test_pusher_js import make_app
from tests.pusher.wire import frame, subscribe


class Receiver:
    """Webhook POSTs, validated; ``fail`` answers 500 to that many requests first."""

    def __init__(self, fail: int = 0) -> None:
        self.sdk = pusher.Pusher(app_id=APP_ID, key=KEY, secret=SECRET)
        self.impostor = pusher.Pusher(app_id=APP_ID, key=KEY, secret="not-the-secret")
        self.fail = fail
        self.attempts = 0
        self.bodies: list[dict[str, Any]] = []
        self.arrived = asyncio.Condition()
        self.app = Starlette(routes=[Route("/hooks", self.hook, methods=["POST"])])

    async def hook(self, request: Request) -> Response:
        self.attempts += 1
        if self.fail:
            self.fail -= 1
            return Response("down", 500)
        body = (await request.body()).decode()
        key, signature = request.headers["x-pusher-key"], request.headers["x-pusher-signature"]
        assert self.impostor.validate_webhook(key, signature, body) is None
        valid = self.sdk.validate_webhook(key, signature, body)
        if valid is None:
            return Response("bad signature", 401)
        async with self.arrived:
            self.bodies.append(valid)
            self.arrived.notify_all()
        return Response("ok")

    @property
    def events(self) -> list[dict[str, Any]]:
        return [event for body in self.bodies for event in body["events"]]

    async def wait_for(self, done: Callable[[list[dict[str, Any]]], bool]) -> None:
        async with asyncio.timeout(5), self.arrived:
            await self.arrived.wait_for(lambda: done(self.events))


async def start(serve: ServeFactory, receiver: Receiver, **options: Any) -> tuple[LiveServer, Any]:
    hooks = await serve(receiver.app)
    app, live = make_app(webhooks=[hooks.url + "/hooks"], **options)
    server = await serve(app)
    live.pusher.webhooks.queue.retry_delay = 0.01
    return server, live


def named(name: str, **fields: Any) -> Callable[[list[dict[str, Any]]], bool]:
    def done(events: list[dict[str, Any]]) -> bool:
        return any(
            e["name"] == name and all(e.get(k) == v for k, v in fields.items()) for e in events
        )

    return done


async def test_channel_member_and_client_events_are_reported(serve: ServeFactory) -> None:
    receiver = Receiver()
    server, live = await start(serve, receiver)
    room = "presence-room.1"
    async with connect(f"{server.ws_url}/app/{KEY}") as ada:
        ada_socket = await subscribe(ada, room, "ada")
        await receiver.wait_for(named("member_added", user_id="ada"))
        assert named("channel_occupied", channel=room)(receiver.events)
        async with connect(f"{server.ws_url}/app/{KEY}") as bob:
            await subscribe(bob, room, "bob")
            await receiver.wait_for(named("member_added", user_id="bob"))
            await frame(ada)  # bob's member_added
            whisper = {"event": "client-typing", "channel": room, "data": {"n": 1}}
            await ada.send(json.dumps(whisper))
            await receiver.wait_for(named("client_event"))
        await receiver.wait_for(named("member_removed", user_id="bob"))
    await receiver.wait_for(named("channel_vacated", channel=room))
    await live.pusher.webhooks.queue.idle()
    client_event = next(e for e in receiver.events if e["name"] == "client_event")
    assert client_event == {
        "name": "client_event",
        "channel": room,
        "event": "client-typing",
        "data": '{"n": 1}',
        "socket_id": ada_socket,
        "user_id": "ada",
    }
    names = [(e["name"], e.get("user_id")) for e in receiver.events]
    # One occupied and one vacated for the channel; one member event per user per change.
    assert names.count(("channel_occupied", None)) == 1
    assert names.count(("channel_vacated", None)) == 1
    assert sorted(n for n in names if n[0].startswith("member_")) == [
        ("member_added", "ada"),
        ("member_added", "bob"),
        ("member_removed", "ada"),
        ("member_removed", "bob"),
    ]
    assert all(isinstance(body["time_ms"], int) for body in receiver.bodies)


async def test_a_second_tab_is_no_new_member(serve: ServeFactory) -> None:
    receiver = Receiver()
    server, live = await start(serve, receiver, webhook_events=("member_added", "member_removed"))
    tab_gone = asyncio.Event()
    forget = live.pusher.gone

    async def gone(conn: Any) -> None:
        await forget(conn)
        tab_gone.set()

    live.pusher.gone = gone
    async with connect(f"{server.ws_url}/app/{KEY}") as tab1:
        await subscribe(tab1, "presence-room.1", "ada")
        async with connect(f"{server.ws_url}/app/{KEY}") as tab2:
            await subscribe(tab2, "presence-room.1", "ada")
        async with asyncio.timeout(5):  # tab2's leaving was handled before tab1 leaves
            await tab_gone.wait()
    await receiver.wait_for(named("member_removed", user_id="ada"))
    await live.pusher.webhooks.queue.idle()
    assert [e["name"] for e in receiver.events] == ["member_added", "member_removed"]


async def test_failures_are_retried(serve: ServeFactory) -> None:
    receiver = Receiver(fail=2)
    server, live = await start(serve, receiver, webhook_events=("channel_occupied",))
    async with connect(f"{server.ws_url}/app/{KEY}") as ws:
        await subscribe(ws, "news")
        await receiver.wait_for(named("channel_occupied", channel="news"))
    await live.pusher.webhooks.queue.idle()
    assert receiver.attempts == 3
    assert len(receiver.events) == 1


async def test_a_dead_receiver_is_given_up_and_logged(
    serve: ServeFactory, caplog: pytest.LogCaptureFixture
) -> None:
    receiver = Receiver(fail=100)
    server, live = await start(serve, receiver, webhook_events=("channel_occupied",))
    with caplog.at_level(logging.WARNING, logger="livepy.pusher"):
        async with connect(f"{server.ws_url}/app/{KEY}") as ws:
            await subscribe(ws, "news")
            await live.pusher.webhooks.queue.idle()
            await ws.send(json.dumps({"event": "pusher:ping", "data": {}}))
            assert (await frame(ws))["event"] == "pusher:pong"  # the socket never waited
    assert receiver.attempts == webhooks.RETRIES + 1
    assert "event=webhook_failed" in caplog.text and "status 500" in caplog.text


async def test_the_queue_is_bounded(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(webhooks, "MAX_QUEUED", 3)
    app = PusherApp(APP_ID, KEY, SECRET, webhooks=("http://127.0.0.1:9/hooks",))
    queue = WebhookQueue()
    queue.retry_delay = 0.0
    with caplog.at_level(logging.WARNING, logger="livepy.pusher"):
        for n in range(5):
            queue.emit(app, "channel_occupied", channel=f"c{n}")
        assert len(queue._queue) == 3
        assert "event=webhook_dropped" in caplog.text
        await queue.idle()  # the unreachable URL is given up, not retried forever
    assert "event=webhook_failed" in caplog.text
    assert not queue._queue


def test_configuration() -> None:
    app = PusherApp(APP_ID, KEY, SECRET, webhooks=["https://hooks.example.com/pusher"])
    assert app.webhooks == ("https://hooks.example.com/pusher",)
    assert app.webhook_events == WEBHOOK_EVENTS
    hash(app)  # lists are kept as tuples: the app stays hashable
    with pytest.raises(ConfigurationError, match="http"):
        PusherApp(APP_ID, KEY, SECRET, webhooks=("ftp://example.com",))
    with pytest.raises(ConfigurationError, match="unknown webhook event"):
        PusherApp(APP_ID, KEY, SECRET, webhook_events=("cache_miss",))
    env = {
        "LIVEPY_PUSHER_APP_ID": APP_ID,
        "LIVEPY_PUSHER_APP_KEY": KEY,
        "LIVEPY_PUSHER_APP_SECRET": SECRET,
        "LIVEPY_PUSHER_WEBHOOKS": "http://a.test/h, http://b.test/h",
        "LIVEPY_PUSHER_WEBHOOK_EVENTS": "client_event",
    }
    apps = PusherApps.from_env(env)
    assert apps is not None
    assert apps.default.webhooks == ("http://a.test/h", "http://b.test/h")
    assert apps.default.webhook_events == ("client_event",)
