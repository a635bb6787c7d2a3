"""The Pusher HTTP API, called by the real `pusher` SDK from PyPI and by hand-signed requests."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pusher
import pytest
from pusher.errors import PusherBadAuth, PusherBadRequest, PusherError
from websockets.asyncio.client import connect

from livepy.pusher.signing import channel_auth, sign_request
from tests.conftest import LiveServer, ServeFactory
from tests.pusher.node import APP_ID, KEY, SECRET
from tests.pusher.test_pusher_js import make_app
from tests.pusher.wire import frame, presence_pair, subscribe


def sdk(server: LiveServer, secret: str = SECRET) -> pusher.Pusher:
    return pusher.Pusher(
        app_id=APP_ID, key=KEY, secret=secret, host="127.0.0.1", port=server.port, ssl=False
    )


async def call(function: Any, *args: Any, **kwargs: Any) -> Any:
    return await asyncio.to_thread(function, *args, **kwargs)


@pytest.fixture
async def server(serve: ServeFactory) -> AsyncIterator[LiveServer]:
    app, _ = make_app()
    yield await serve(app)


async def test_trigger_and_batch_reach_subscribers(server: LiveServer) -> None:
    async with connect(f"{server.ws_url}/app/{KEY}") as ws:
        await subscribe(ws, "news")
        assert await call(sdk(server).trigger, "news", "Posted", {"n": 1}) == {}
        assert await frame(ws) == {"event": "Posted", "channel": "news", "data": '{"n": 1}'}
        batch = [{"channel": "news", "name": f"B{i}", "data": {"i": i}} for i in range(3)]
        assert await call(sdk(server).trigger_batch, batch) == {"batch": {}}
        assert [(await frame(ws))["event"] for _ in range(3)] == ["B0", "B1", "B2"]


async def test_socket_id_excludes_the_sender(server: LiveServer) -> None:
    async with (
        connect(f"{server.ws_url}/app/{KEY}") as sender,
        connect(f"{server.ws_url}/app/{KEY}") as other,
    ):
        socket_id = await subscribe(sender, "news")
        await subscribe(other, "news")
        await call(sdk(server).trigger, "news", "First", {}, socket_id=socket_id)
        await call(sdk(server).trigger, "news", "Second", {})
        assert (await frame(other))["event"] == "First"
        assert (await frame(sender))["event"] == "Second"  # First was never sent to it


async def test_channel_queries(server: LiveServer) -> None:
    async with presence_pair(server.ws_url):
        client = sdk(server)
        channels = await call(client.channels_info)
        assert channels == {"channels": {"presence-room.1": {}}}
        counted = await call(client.channels_info, "presence-", ["user_count"])
        assert counted == {"channels": {"presence-room.1": {"user_count": 2}}}
        info = await call(
            client.channel_info, "presence-room.1", ["user_count", "subscription_count"]
        )
        assert info == {"occupied": True, "user_count": 2, "subscription_count": 2}
        assert await call(client.channel_info, "empty") == {"occupied": False}
        users = await call(client.users_info, "presence-room.1")
        assert sorted(u["id"] for u in users["users"]) == ["ada", "bob"]


async def test_wrong_secret_is_401(server: LiveServer) -> None:
    with pytest.raises(PusherBadAuth):
        await call(sdk(server, "wrong").trigger, "news", "Posted", {})
    with pytest.raises(PusherBadAuth):
        await call(sdk(server, "wrong").channels_info)


def signed(path: str, body: bytes, *, md5: bool = True, **extra: str) -> dict[str, str]:
    params = {"auth_key": KEY, "auth_timestamp": str(int(time.time())), "auth_version": "1.0"}
    params.update(extra)
    if md5:
        params["body_md5"] = hashlib.md5(body).hexdigest()
    params["auth_signature"] = sign_request(SECRET, "POST", path, params)
    return params


async def post(server: LiveServer, path: str, body: Any, **options: Any) -> httpx.Response:
    raw = json.dumps(body).encode()
    params = signed(path, raw, **options)
    async with httpx.AsyncClient() as http:
        return await http.post(server.url + path, content=raw, params=params)


async def test_limits_and_status_codes(server: LiveServer) -> None:
    path = f"/apps/{APP_ID}/events"
    ok = {"name": "E", "channel": "news", "data": "{}"}
    assert (await post(server, path, ok)).status_code == 200
    too_big = {**ok, "data": "x" * 10_241}
    assert (await post(server, path, too_big)).status_code == 413
    many = {"name": "E", "channels": [f"c{i}" for i in range(101)], "data": "{}"}
    assert (await post(server, path, many)).status_code == 400
    long_name = {**ok, "name": "E" * 201}
    assert (await post(server, path, long_name)).status_code == 400
    batch = {"batch": [ok] * 11}
    assert (await post(server, f"/apps/{APP_ID}/batch_events", batch)).status_code == 400
    stale = await post(server, path, ok, auth_timestamp=str(int(time.time()) - 3600))
    assert stale.status_code == 401
    unknown = await post(server, "/apps/999/events", ok)
    assert unknown.status_code == 404


async def test_oversize_payload_through_the_sdk_is_413(server: LiveServer) -> None:
    """The SDK checks 30 KB itself; 10-30 KB gets past it and is refused by the server."""
    with pytest.raises(PusherError) as raised:
        await call(sdk(server).trigger, "news", "Big", "x" * 20_000)
    assert "413" in str(raised.value) or "too large" in str(raised.value).lower()
    assert not isinstance(raised.value, PusherBadRequest)


async def test_body_md5_accepted_in_both_forms(serve: ServeFactory) -> None:
    """Reverb's form (no body_md5 for an empty body) and the SDK's (always one) both verify."""
    app, _ = make_app()
    server = await serve(app)
    path = f"/apps/{APP_ID}/channels"
    for md5 in (True, False):
        params = {"auth_key": KEY, "auth_timestamp": str(int(time.time())), "auth_version": "1.0"}
        if md5:
            params["body_md5"] = hashlib.md5(b"").hexdigest()
        params["auth_signature"] = sign_request(SECRET, "GET", path, params)
        async with httpx.AsyncClient() as http:
            response = await http.get(server.url + path, params=params)
        assert response.status_code == 200, response.text


async def test_auth_endpoint_signs_with_the_channel_rules(server: LiveServer) -> None:
    async with httpx.AsyncClient() as http:
        form = {"socket_id": "1.2", "channel_name": "presence-room.1"}
        response = await http.post(
            server.url + "/broadcasting/auth", data=form, headers={"x-user": "ada"}
        )
        body = response.json()
        assert json.loads(body["channel_data"]) == {
            "user_id": "ada",
            "user_info": {"id": "ada", "name": "Ada"},
        }
        assert body["auth"] == channel_auth(
            KEY, SECRET, "1.2", "presence-room.1", body["channel_data"]
        )
        private = {"socket_id": "1.2", "channel_name": "private-orders.1"}
        refused = await http.post(server.url + "/broadcasting/auth", data=private)
        assert refused.status_code == 403
        allowed = await http.post(
            server.url + "/broadcasting/auth", data=private, headers={"x-user": "alice"}
        )
        assert allowed.json() == {"auth": channel_auth(KEY, SECRET, "1.2", "private-orders.1")}


async def test_terminate_user_connections(server: LiveServer) -> None:
    async with presence_pair(server.ws_url) as (ada, bob):
        assert (await frame(ada))["event"] == "pusher_internal:member_added"
        assert await call(sdk(server).terminate_user_connections, "bob") == {}
        error = await frame(bob)
        assert json.loads(error["data"])["code"] == 4009
        await bob.wait_closed()
        assert bob.close_code == 4009
        removed = await frame(ada)
        assert removed["event"] == "pusher_internal:member_removed"
        assert json.loads(removed["data"]) == {"user_id": "bob"}


async def test_subscribing_twice_confirms_again(server: LiveServer) -> None:
    async with connect(f"{server.ws_url}/app/{KEY}") as ws:
        await subscribe(ws, "news")
        await ws.send(json.dumps({"event": "pusher:subscribe", "data": {"channel": "news"}}))
        again = await frame(ws)
        assert again["event"] == "pusher_internal:subscription_succeeded"


async def test_health(server: LiveServer) -> None:
    async with httpx.AsyncClient() as http:
        assert (await http.get(server.url + "/up")).json() == {"health": "OK"}


async def test_terminate_on_the_spec_path(server: LiveServer) -> None:
    path = f"/apps/{APP_ID}/users/nobody/terminate_connections"
    assert (await post(server, path, {})).json() == {}


async def test_connections_counts_every_socket(server: LiveServer) -> None:
    path = f"/apps/{APP_ID}/connections"
    async with connect(f"{server.ws_url}/app/{KEY}") as ws:
        await frame(ws)  # connected, subscribed to nothing: still counted
        params = {"auth_key": KEY, "auth_timestamp": str(int(time.time())), "auth_version": "1.0"}
        params["auth_signature"] = sign_request(SECRET, "GET", path, params)
        async with httpx.AsyncClient() as http:
            response = await http.get(server.url + path, params=params)
        assert response.json() == {"connections": 1}


async def test_trigger_with_info_reports_each_channel(server: LiveServer) -> None:
    """The SDK's ``trigger`` has no ``info``: the spec's request is signed by hand."""
    async with presence_pair(server.ws_url) as (ada, bob):
        await frame(ada)  # bob's member_added
        await ada.send(json.dumps({"event": "pusher:subscribe", "data": {"channel": "news"}}))
        assert (await frame(ada))["event"] == "pusher_internal:subscription_succeeded"
        body = {
            "name": "Posted",
            "channels": ["presence-room.1", "news", "empty"],
            "data": "{}",
            "info": "user_count,subscription_count",
        }
        response = await post(server, f"/apps/{APP_ID}/events", body)
        assert response.json() == {
            "channels": {
                "presence-room.1": {"user_count": 2, "subscription_count": 2},
                "news": {"subscription_count": 1},
                "empty": {"subscription_count": 0},
            }
        }
        assert (await frame(bob))["event"] == "Posted"  # the event went out too
        unknown = await post(server, f"/apps/{APP_ID}/events", {**body, "info": "cache"})
        assert unknown.status_code == 400
        assert "cache" in unknown.json()["error"]


async def test_batch_with_info_through_the_sdk(server: LiveServer) -> None:
    async with connect(f"{server.ws_url}/app/{KEY}") as ada:
        await subscribe(ada, "presence-room.1", "ada")
        batch = [
            {"channel": "presence-room.1", "name": "A", "data": {}, "info": "user_count"},
            {"channel": "news", "name": "B", "data": {}},
            {"channel": "news", "name": "C", "data": {}, "info": "subscription_count"},
        ]
        answer = await call(sdk(server).trigger_batch, batch)
        assert answer == {"batch": [{"user_count": 1}, {}, {"subscription_count": 0}]}
        assert [(await frame(ada))["event"]] == ["A"]


async def test_channels_info_needs_presence_prefix_for_user_count(server: LiveServer) -> None:
    async with (
        connect(f"{server.ws_url}/app/{KEY}") as ada,
        connect(f"{server.ws_url}/app/{KEY}") as bob,
    ):
        await subscribe(ada, "presence-room.1", "ada")
        await subscribe(bob, "news")
        client = sdk(server)
        with pytest.raises(PusherBadRequest):
            await call(client.channels_info, None, ["user_count"])
        with pytest.raises(PusherBadRequest):
            await call(client.channels_info, "new", ["user_count"])
        assert await call(client.channels_info, "new") == {"channels": {"news": {}}}
        counted = await call(client.channels_info, None, ["subscription_count"])
        assert counted == {
            "channels": {
                "news": {"subscription_count": 1},
                "presence-room.1": {"subscription_count": 1},
            }
        }
