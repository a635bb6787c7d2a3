"""Raw Pusher protocol frames over a websockets client, for what pusher-js cannot show."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from livepy.pusher.signing import channel_auth
from tests.pusher.node import KEY, SECRET


async def frame(ws: ClientConnection) -> dict[str, Any]:
    async with asyncio.timeout(5):
        message: dict[str, Any] = json.loads(await ws.recv())
    return message


async def subscribe(ws: ClientConnection, channel: str, user: str | None = None) -> str:
    """Connect-and-subscribe with a signature computed like /broadcasting/auth does."""
    socket_id = json.loads((await frame(ws))["data"])["socket_id"]
    data: dict[str, Any] = {"channel": channel}
    if channel.startswith("presence-"):
        channel_data = json.dumps({"user_id": user, "user_info": {"id": user}})
        data["channel_data"] = channel_data
        data["auth"] = channel_auth(KEY, SECRET, socket_id, channel, channel_data)
    await ws.send(json.dumps({"event": "pusher:subscribe", "data": data}))
    succeeded = await frame(ws)
    assert succeeded["event"] == "pusher_internal:subscription_succeeded", succeeded
    return str(socket_id)


@contextlib.asynccontextmanager
async def presence_pair(
    ws_url: str, channel: str = "presence-room.1"
) -> AsyncIterator[tuple[ClientConnection, ClientConnection]]:
    """Two raw sockets, ada then bob, both members of ``channel`` (ada has yet to read bob's
    member_added)."""
    async with connect(f"{ws_url}/app/{KEY}") as ada, connect(f"{ws_url}/app/{KEY}") as bob:
        await subscribe(ada, channel, "ada")
        await subscribe(bob, channel, "bob")
        yield ada, bob
