"""pusher-js 8 and Laravel Echo 2 under Node, against a real livepy server."""

from __future__ import annotations

import asyncio
import base64
import json
import socket
from typing import Any

import pusher
import pytest
from starlette.applications import Starlette
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.routing import Route
from websockets.asyncio.client import connect

from livepy import Component, LivePy, on, on_presence
from livepy.listeners import PRESENCE_EVENT
from livepy.pusher import PusherApp
from tests.conftest import LiveServer, RedisServer, ServeFactory
from tests.protocol_client import ProtocolClient
from tests.pusher.node import APP_ID, KEY, SECRET, NodeClient

pytestmark = pytest.mark.node


class Shipment(Component):
    template_source = "<div>order: {{ status }}</div>"
    status: str = "pending"

    @on("orders", "OrderShipped")
    def shipped(self, event: dict[str, Any]) -> None:
        self.status = "shipped to " + event["to"]


class Room(Component):
    template_source = "<div>{{ online|join(', ') }} | {{ log|join('; ') }}</div>"
    online: list[str] = []
    log: list[str] = []

    @on_presence("presence-room.1")
    def here(self, members: list[dict[str, Any]]) -> None:
        self.online = sorted(m["name"] for m in members)

    @on_presence("presence-room.1", "joining")
    def joining(self, member: dict[str, Any]) -> None:
        self.log.append(member["name"] + " joined")

    @on_presence("presence-room.1", "leaving")
    def leaving(self, member: dict[str, Any]) -> None:
        self.log.append(member["name"] + " left")


def user_from_header(conn: HTTPConnection) -> str | None:
    return conn.headers.get("x-user")


def make_app(broker: str = "memory://", **app_options: Any) -> tuple[Starlette, LivePy]:
    app_config = PusherApp(APP_ID, KEY, SECRET, **app_options)
    live = LivePy(
        templates=[],
        secret_key="k",
        broker=broker,
        user_resolver=user_from_header,
        pusher=[app_config],
    )

    @live.channel("orders.{order_id}")
    def owns_order(user: str | None, order_id: int) -> bool:
        return user == "alice" and order_id == 1

    @live.channel("room.{room_id}")
    def room_member(user: str | None, room_id: int) -> dict[str, Any] | bool:
        return {"id": user, "name": user.title()} if user else False

    page = live.env.from_string("<html><body>{{ livepy('shipment') }}</body></html>")
    room = live.env.from_string("<html><body>{{ livepy('room') }}</body></html>")

    async def home(request: Request) -> Response:
        return Response(page.render(request=request), media_type="text/html")

    async def room_page(request: Request) -> Response:
        return Response(room.render(request=request), media_type="text/html")

    app = Starlette(routes=[Route("/", home), Route("/room", room_page)])
    live.install(app)
    return app, live


async def echo(nodes: list[NodeClient], server: LiveServer, user: str | None = None) -> NodeClient:
    client = await NodeClient.echo(server, user)
    nodes.append(client)
    return client


def of_type(kind: str, **fields: Any) -> Any:
    return lambda m: m["type"] == kind and all(m.get(k) == v for k, v in fields.items())


async def test_public_channel_gets_live_broadcast(
    serve: ServeFactory, nodes: list[NodeClient]
) -> None:
    app, live = make_app()
    server = await serve(app)
    client = await echo(nodes, server)
    await client.send(op="subscribe", kind="public", name="orders", listen=["OrderShipped"])
    await client.expect(of_type("subscribed", channel="orders"))
    await live.broadcast("orders", "OrderShipped", {"to": "Lyon"})
    event = await client.expect(of_type("event", event="OrderShipped"))
    assert event["data"] == {"to": "Lyon"}


async def test_socket_id_shape(serve: ServeFactory, nodes: list[NodeClient]) -> None:
    app, _ = make_app()
    server = await serve(app)
    client = await NodeClient.start(
        "echo_client.mjs", "127.0.0.1", str(server.port), KEY, server.url + "/broadcasting/auth"
    )
    nodes.append(client)
    connected = await client.expect(of_type("connected"))
    left, _, right = connected["socket_id"].partition(".")
    assert left.isdigit() and right.isdigit()


async def test_private_channel_authorized_and_refused(
    serve: ServeFactory, nodes: list[NodeClient]
) -> None:
    app, live = make_app()
    server = await serve(app)
    alice, mallory = await echo(nodes, server, "alice"), await echo(nodes, server, "mallory")
    for client in (alice, mallory):
        await client.send(op="subscribe", kind="private", name="orders.1", listen=["Shipped"])
    await alice.expect(of_type("subscribed", channel="orders.1"))
    refused = await mallory.expect(of_type("subscription_error", channel="orders.1"))
    assert refused["error"]["status"] == 403
    await live.broadcast("private-orders.1", "Shipped", {"id": 1})
    assert (await alice.expect(of_type("event")))["data"] == {"id": 1}


async def test_forged_signature_reaches_echo_error(serve: ServeFactory) -> None:
    """A subscribe with a bad signature gets a channel-scoped pusher:subscription_error."""
    app, _ = make_app()
    server = await serve(app)
    async with connect(f"{server.ws_url}/app/{KEY}?protocol=7") as ws:
        established = json.loads(await ws.recv())
        assert established["event"] == "pusher:connection_established"
        data = json.loads(established["data"])
        assert data["activity_timeout"] == 30
        frame = {"channel": "private-orders.1", "auth": f"{KEY}:{'0' * 64}"}
        await ws.send(json.dumps({"event": "pusher:subscribe", "data": frame}))
        error = json.loads(await ws.recv())
        assert error["event"] == "pusher:subscription_error"
        assert error["channel"] == "private-orders.1"
        assert json.loads(error["data"])["status"] == 401
        await ws.send(json.dumps({"event": "pusher:ping", "data": {}}))
        frames = [json.loads(await ws.recv()) for _ in range(2)]
        assert frames[0]["event"] == "pusher:error"
        assert json.loads(frames[0]["data"])["code"] == 4009
        assert frames[1]["event"] == "pusher:pong"


async def test_presence_here_joining_leaving_per_user(
    serve: ServeFactory, nodes: list[NodeClient]
) -> None:
    app, live = make_app()
    server = await serve(app)
    ada = await echo(nodes, server, "ada")
    await ada.send(op="subscribe", kind="presence", name="room.1", listen=["Tick"])
    here = await ada.expect(of_type("here"))
    assert here["users"] == [{"id": "ada", "name": "Ada"}]
    bob_tab1, bob_tab2 = await echo(nodes, server, "bob"), await echo(nodes, server, "bob")
    await bob_tab1.send(op="subscribe", kind="presence", name="room.1")
    joined = await ada.expect(of_type("joining"))
    assert joined["user"] == {"id": "bob", "name": "Bob"}
    here = await bob_tab1.expect(of_type("here"))
    assert sorted(u["id"] for u in here["users"]) == ["ada", "bob"]
    await bob_tab2.send(op="subscribe", kind="presence", name="room.1")  # a second tab: no join
    await bob_tab2.expect(of_type("here"))
    gone = asyncio.Event()  # the server saw the tab go: it republished the member list
    live.broadcaster.hub.observers.append(
        lambda channel, name, *_: gone.set() if name == PRESENCE_EVENT else None
    )
    await bob_tab2.close()  # one of bob's tabs leaves: bob is still there
    async with asyncio.timeout(5):
        await gone.wait()
    await live.broadcast("presence-room.1", "Tick", {})
    await ada.expect(of_type("event", event="Tick"))
    assert not [m for m in ada.seen if m["type"] == "leaving"]
    await bob_tab1.close()
    left = await ada.expect(of_type("leaving"))
    assert left["user"] == {"id": "bob", "name": "Bob"}
    assert not [m for m in ada.seen if m["type"] in ("joining", "leaving")]


async def test_whisper_reaches_others_not_the_sender(
    serve: ServeFactory, nodes: list[NodeClient]
) -> None:
    app, live = make_app()
    server = await serve(app)
    ada, bob = await echo(nodes, server, "ada"), await echo(nodes, server, "bob")
    for client in (ada, bob):
        await client.send(
            op="subscribe", kind="presence", name="room.1", whispers=["typing"], listen=["Tick"]
        )
        await client.expect(of_type("here"))
    await ada.send(op="whisper", kind="presence", name="room.1", event="typing", data={"a": 1})
    whisper = await bob.expect(of_type("whisper", event="typing"))
    assert whisper["data"] == {"a": 1}
    # Everything sent to ada before this event was delivered first: no echo of her whisper.
    await live.broadcast("presence-room.1", "Tick", {})
    await ada.expect(of_type("event", event="Tick"))
    assert not [m for m in ada.seen if m["type"] == "whisper"]


async def test_whisper_on_public_channel_is_refused(serve: ServeFactory) -> None:
    app, _ = make_app()
    server = await serve(app)
    async with connect(f"{server.ws_url}/app/{KEY}") as ws:
        await ws.recv()
        await ws.send(json.dumps({"event": "client-x", "channel": "orders", "data": {}}))
        error = json.loads(await ws.recv())
        assert json.loads(error["data"])["code"] == 4301


async def test_unknown_key_is_refused_without_retry(
    serve: ServeFactory, nodes: list[NodeClient]
) -> None:
    app, _ = make_app()
    server = await serve(app)
    client = await NodeClient.start("raw_client.mjs", "127.0.0.1", str(server.port), "nope")
    nodes.append(client)
    error = await client.expect(of_type("connection_error"))
    assert error["error"]["code"] == 4001, error
    await client.expect(of_type("state", state="disconnected"))  # refused: no retry


async def test_connection_quota_stops_retries(serve: ServeFactory, nodes: list[NodeClient]) -> None:
    app, _ = make_app(max_connections=1)
    server = await serve(app)
    first = await NodeClient.start("raw_client.mjs", "127.0.0.1", str(server.port), KEY)
    nodes.append(first)
    await first.expect(of_type("connected"))
    second = await NodeClient.start("raw_client.mjs", "127.0.0.1", str(server.port), KEY)
    nodes.append(second)
    error = await second.expect(of_type("connection_error"))
    assert error["error"]["code"] == 4004, error
    await second.expect(of_type("state", state="disconnected"))  # refused: no retry


async def test_origin_refused(serve: ServeFactory) -> None:
    app, _ = make_app(allowed_origins=("*.example.com",))
    server = await serve(app)
    async with connect(f"{server.ws_url}/app/{KEY}", origin="https://evil.test") as ws:
        error = json.loads(await ws.recv())
        assert json.loads(error["data"])["code"] == 4009
        await ws.wait_closed()
        assert ws.close_code == 4009
    async with connect(f"{server.ws_url}/app/{KEY}", origin="https://app.example.com") as ws:
        assert json.loads(await ws.recv())["event"] == "pusher:connection_established"


async def test_sdk_trigger_reaches_pusher_js_and_rerenders_component(
    serve: ServeFactory, nodes: list[NodeClient]
) -> None:
    app, _ = make_app()
    server = await serve(app)
    client = await echo(nodes, server)
    await client.send(op="subscribe", kind="public", name="orders", listen=["OrderShipped"])
    await client.expect(of_type("subscribed"))
    async with connect(server.ws_url + "/livepy/ws") as ws:
        component = ProtocolClient(ws)
        await component.load(server.url + "/")
        await component.join("shipment")
        sdk = pusher.Pusher(
            app_id=APP_ID, key=KEY, secret=SECRET, host="127.0.0.1", port=server.port, ssl=False
        )
        result = await asyncio.to_thread(sdk.trigger, ["orders"], "OrderShipped", {"to": "Oslo"})
        assert result == {}
        event = await client.expect(of_type("event", event="OrderShipped"))
        assert event["data"] == {"to": "Oslo"}
        async with asyncio.timeout(5):
            await component.recv()
        assert "order: shipped to Oslo" in component.held["shipment"].html


async def test_presence_is_shared_with_livepy_components(
    serve: ServeFactory, nodes: list[NodeClient]
) -> None:
    app, _ = make_app()
    server = await serve(app)
    async with connect(server.ws_url + "/livepy/ws", additional_headers={"x-user": "ada"}) as ws:
        component = ProtocolClient(ws)
        await component.load(server.url + "/room")
        await component.join("room")
        async with asyncio.timeout(5):
            while "Ada" not in component.held["room"].html:
                await component.recv()
        bob = await echo(nodes, server, "bob")
        await bob.send(op="subscribe", kind="presence", name="room.1")
        here = await bob.expect(of_type("here"))
        assert sorted(u["name"] for u in here["users"]) == ["Ada", "Bob"]
        async with asyncio.timeout(5):
            while "Bob joined" not in component.held["room"].html:
                await component.recv()
        assert "Ada, Bob |" in component.held["room"].html
        await bob.send(op="leave", name="room.1")
        async with asyncio.timeout(5):
            while "Bob left" not in component.held["room"].html:
                await component.recv()
        carl = await echo(nodes, server, "carl")
        await carl.send(op="subscribe", kind="presence", name="room.1")
        await carl.expect(of_type("here"))
    # The component's socket closed: pusher-js sees its user leave.
    left = await carl.expect(of_type("leaving"))
    assert left["user"] == {"id": "ada", "name": "Ada"}


async def restart(server: LiveServer) -> LiveServer:
    """Stop the server and start it again on the same port (same app, same livepy)."""
    port = server.port
    await server.stop()
    again = LiveServer(server.app, ws=server.server.config.ws)
    again.sock.close()
    again.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    again.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    again.sock.bind(("127.0.0.1", port))
    again.port, again.url, again.ws_url = port, server.url, server.ws_url
    return await again.start()


async def test_reconnect_after_restart_restores_subscriptions(
    serve: ServeFactory, nodes: list[NodeClient]
) -> None:
    app, live = make_app()
    server = await serve(app)
    alice = await echo(nodes, server, "alice")
    await alice.send(op="subscribe", kind="private", name="orders.1", listen=["Shipped"])
    await alice.expect(of_type("subscribed", channel="orders.1"))
    server = await restart(server)
    try:
        await alice.expect(of_type("connected"))  # pusher-js reconnected by itself
        await alice.expect(of_type("subscribed", channel="orders.1"))  # and re-authorized
        await live.broadcast("private-orders.1", "Shipped", {"id": 1})
        assert (await alice.expect(of_type("event", event="Shipped")))["data"] == {"id": 1}
    finally:
        await alice.close()
        await server.stop()


@pytest.mark.redis
async def test_two_processes_share_events_and_presence(
    serve: ServeFactory, nodes: list[NodeClient], redis_server: RedisServer
) -> None:
    first, live_a = make_app(redis_server.url)
    second, live_b = make_app(redis_server.url)
    server_a, server_b = await serve(first), await serve(second)
    try:
        ada = await echo(nodes, server_a, "ada")
        await ada.send(op="subscribe", kind="presence", name="room.1", listen=["Posted"])
        await ada.expect(of_type("here"))
        bob = await echo(nodes, server_b, "bob")
        await bob.send(op="subscribe", kind="presence", name="room.1")
        here = await bob.expect(of_type("here"))
        assert sorted(u["id"] for u in here["users"]) == ["ada", "bob"]
        assert (await ada.expect(of_type("joining")))["user"]["id"] == "bob"
        sdk = pusher.Pusher(
            app_id=APP_ID, key=KEY, secret=SECRET, host="127.0.0.1", port=server_b.port, ssl=False
        )
        await asyncio.to_thread(sdk.trigger, "presence-room.1", "Posted", {"by": "b"})
        assert (await ada.expect(of_type("event", event="Posted")))["data"] == {"by": "b"}
        users = await asyncio.to_thread(sdk.users_info, "presence-room.1")
        assert sorted(u["id"] for u in users["users"]) == ["ada", "bob"]
        await bob.close()
        assert (await ada.expect(of_type("leaving")))["user"]["id"] == "bob"
    finally:
        for client in nodes:
            await client.close()
        for server in (server_a, server_b):
            await server.stop()
        await live_a.broadcaster.stop()
        await live_b.broadcaster.stop()


MASTER_KEY = base64.b64encode(bytes(range(32))).decode()


async def test_encrypted_channel_end_to_end(serve: ServeFactory, nodes: list[NodeClient]) -> None:
    """The SDK encrypts, livepy relays the ciphertext, pusher-js decrypts with shared_secret."""
    app, _ = make_app(encryption_master_key_base64=MASTER_KEY)
    server = await serve(app)
    alice = await echo(nodes, server, "alice")
    await alice.send(op="subscribe", kind="encrypted", name="orders.1", listen=["Shipped"])
    await alice.expect(of_type("subscribed", channel="orders.1"))
    sdk = pusher.Pusher(
        app_id=APP_ID,
        key=KEY,
        secret=SECRET,
        host="127.0.0.1",
        port=server.port,
        ssl=False,
        encryption_master_key_base64=MASTER_KEY,
    )
    await asyncio.to_thread(sdk.trigger, "private-encrypted-orders.1", "Shipped", {"id": 1})
    assert (await alice.expect(of_type("event", event="Shipped")))["data"] == {"id": 1}


async def test_encrypted_channel_needs_a_master_key(
    serve: ServeFactory, nodes: list[NodeClient]
) -> None:
    app, _ = make_app()
    server = await serve(app)
    alice = await echo(nodes, server, "alice")
    await alice.send(op="subscribe", kind="encrypted", name="orders.1")
    refused = await alice.expect(of_type("subscription_error", channel="orders.1"))
    assert refused["error"]["status"] == 400
