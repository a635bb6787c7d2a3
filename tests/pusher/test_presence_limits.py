"""Pusher's presence caps (members per channel, user id length, user info size), seen by
Laravel Echo's ``.error()``, by raw frames, and by livepy components on the same channel."""

from __future__ import annotations

import asyncio
import json

import pytest
from websockets.asyncio.client import connect

from livepy.channels.presence_limits import MAX_USER_ID, MAX_USER_INFO_BYTES, PresenceLimits
from livepy.exceptions import ConfigurationError
from livepy.protocol import constants as c
from livepy.pusher import PusherApp, PusherApps
from livepy.pusher.signing import channel_auth
from tests.conftest import ServeFactory
from tests.protocol_client import ProtocolClient, is_error
from tests.pusher.node import APP_ID, KEY, SECRET, NodeClient
from tests.pusher.test_pusher_js import echo, make_app, of_type
from tests.pusher.wire import frame, subscribe


@pytest.mark.node
async def test_full_presence_channel_reaches_echo_error(
    serve: ServeFactory, nodes: list[NodeClient]
) -> None:
    app, _ = make_app(max_presence_members=2)
    server = await serve(app)
    for user in ("ada", "bob"):
        client = await echo(nodes, server, user)
        await client.send(op="subscribe", kind="presence", name="room.1")
        await client.expect(of_type("here"))
    carl = await echo(nodes, server, "carl")
    await carl.send(op="subscribe", kind="presence", name="room.1")
    refused = await carl.expect(of_type("subscription_error", channel="room.1"))
    assert refused["error"]["status"] == 403
    assert "is full (2 members)" in refused["error"]["error"]
    # A user already present is no new member: bob's second tab gets in.
    bob_again = await echo(nodes, server, "bob")
    await bob_again.send(op="subscribe", kind="presence", name="room.1")
    here = await bob_again.expect(of_type("here"))
    assert sorted(u["id"] for u in here["users"]) == ["ada", "bob"]


@pytest.mark.node
async def test_user_id_over_128_characters_reaches_echo_error(
    serve: ServeFactory, nodes: list[NodeClient]
) -> None:
    app, _ = make_app()
    server = await serve(app)
    client = await echo(nodes, server, "x" * (MAX_USER_ID + 1))
    await client.send(op="subscribe", kind="presence", name="room.1")
    refused = await client.expect(of_type("subscription_error", channel="room.1"))
    assert refused["error"]["status"] == 400
    assert "user id over 128 characters" in refused["error"]["error"]


async def subscribe_as(ws: object, socket_id: str, channel: str, channel_data: str) -> None:
    auth = channel_auth(KEY, SECRET, socket_id, channel, channel_data)
    data = {"channel": channel, "channel_data": channel_data, "auth": auth}
    await ws.send(json.dumps({"event": "pusher:subscribe", "data": data}))  # type: ignore[attr-defined]


async def test_user_info_over_1_kb_is_refused_and_the_socket_stays(serve: ServeFactory) -> None:
    app, _ = make_app()
    server = await serve(app)
    async with connect(f"{server.ws_url}/app/{KEY}") as ws:
        socket_id = json.loads((await frame(ws))["data"])["socket_id"]
        big = {"user_id": "ada", "user_info": {"bio": "x" * MAX_USER_INFO_BYTES}}
        await subscribe_as(ws, socket_id, "presence-room.1", json.dumps(big))
        refused = await frame(ws)
        assert refused["event"] == "pusher:subscription_error"
        assert refused["channel"] == "presence-room.1"
        error = json.loads(refused["data"])
        assert error["status"] == 400 and "user info over 1024 bytes" in error["error"]
        # Only that channel was refused: the same socket joins with a small user info.
        small = json.dumps({"user_id": "ada", "user_info": {"bio": "hi"}})
        await subscribe_as(ws, socket_id, "presence-room.1", small)
        joined = await frame(ws)
        assert joined["event"] == "pusher_internal:subscription_succeeded"
        assert json.loads(joined["data"])["presence"]["ids"] == ["ada"]


async def test_no_cap_when_max_presence_members_is_none(serve: ServeFactory) -> None:
    app, _ = make_app(max_presence_members=None)
    server = await serve(app)
    async with (
        connect(f"{server.ws_url}/app/{KEY}") as ada,
        connect(f"{server.ws_url}/app/{KEY}") as bob,
    ):
        await subscribe(ada, "presence-room.1", "ada")
        await subscribe(bob, "presence-room.1", "bob")  # would fail on a refusal


async def test_component_over_the_cap_gets_channel_forbidden(serve: ServeFactory) -> None:
    """The cap counts pusher-js members and livepy components alike: one shared list."""
    app, live = make_app(max_presence_members=1)
    server = await serve(app)
    assert live.broadcaster.presence_limits == PresenceLimits(max_members=1)
    async with connect(f"{server.ws_url}/app/{KEY}") as ada:
        await subscribe(ada, "presence-room.1", "ada")
        headers = {"x-user": "bob"}
        async with connect(server.ws_url + "/livepy/ws", additional_headers=headers) as ws:
            component = ProtocolClient(ws)
            await component.load(server.url + "/room")
            frames = await component.join("room")
            async with asyncio.timeout(5):
                while not any(is_error(f, c.ERR_CHANNEL_FORBIDDEN) for f in frames):
                    frames = [await component.recv()]
            error = next(f for f in frames if is_error(f, c.ERR_CHANNEL_FORBIDDEN))
            assert "is full (1 members)" in error.message
        # ada alone in the room saw nobody join.
        await ada.send(json.dumps({"event": "pusher:ping", "data": {}}))
        assert (await frame(ada))["event"] == "pusher:pong"


def test_configuration() -> None:
    env = {
        "LIVEPY_PUSHER_APP_ID": APP_ID,
        "LIVEPY_PUSHER_APP_KEY": KEY,
        "LIVEPY_PUSHER_APP_SECRET": SECRET,
        "LIVEPY_PUSHER_MAX_PRESENCE_MEMBERS": "none",
    }
    apps = PusherApps.from_env(env)
    assert apps is not None and apps.default.max_presence_members is None
    env["LIVEPY_PUSHER_MAX_PRESENCE_MEMBERS"] = "7"
    apps = PusherApps.from_env(env)
    assert apps is not None and apps.default.max_presence_members == 7
    assert PusherApp(APP_ID, KEY, SECRET).max_presence_members == 100
    with pytest.raises(ConfigurationError):
        PusherApp(APP_ID, KEY, SECRET, max_presence_members=0)
