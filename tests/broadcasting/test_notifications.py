"""User notifications: live.notify reaches every connection of that user, and nobody else."""

from __future__ import annotations

import asyncio
from typing import Any

from websockets.asyncio.client import connect

from livepy import Component, LivePy, on_notification
from livepy.protocol import Reply
from tests.conftest import ServeFactory, page_app
from tests.protocol_client import ProtocolClient


class Bell(Component):
    template_source = "<div>{{ unread }} unread{% if last %}: {{ last }}{% endif %}</div>"
    unread: int = 0
    last: str = ""

    @on_notification("InvoicePaid")
    def paid(self, data: dict[str, Any]) -> None:
        self.unread += 1
        self.last = f"invoice {data['invoice']} paid"


async def test_notify_reaches_every_tab_of_one_user(serve: ServeFactory) -> None:
    live = LivePy(templates=[], secret_key="k", user_resolver=lambda c: c.headers.get("x-user"))
    app = page_app(live, "bell")
    server = await serve(app)
    tabs = {}
    sockets = []
    for name in ("alice-1", "alice-2", "bob"):
        user = name.split("-")[0]
        ws = await connect(server.ws_url + "/livepy/ws", additional_headers={"x-user": user})
        sockets.append(ws)
        client = ProtocolClient(ws)
        await client.load(server.url + "/")
        await client.join("bell")
        tabs[name] = client
    try:
        await live.notify("alice", "InvoicePaid", {"invoice": 42})
        for name in ("alice-1", "alice-2"):
            async with asyncio.timeout(5):
                reply = await tabs[name].recv()
            assert isinstance(reply, Reply)
            assert "1 unread: invoice 42 paid" in tabs[name].held["bell"].html
        await tabs["bob"].ws.send(b"\x91\x05")
        assert type(await tabs["bob"].recv()).__name__ == "Pong"  # bob heard nothing
        assert "0 unread" in tabs["bob"].held["bell"].html
    finally:
        for ws in sockets:
            await ws.close()
