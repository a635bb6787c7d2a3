"""The Pusher protocol 7 WebSocket endpoint, on livepy's hub, channels and presence.

Each channel with pusher subscribers on this process has one hub listener (the hub holds
one broker subscription per channel per process). Broadcasts reach pusher-js as
``{"event", "channel", "data": "<json>"}``; presence lives in the broker's shared member
list, so a pusher-js client and a livepy component on the same presence channel see each
other, on every process.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from typing import TYPE_CHECKING, Any

import msgpack
from starlette.websockets import WebSocket, WebSocketDisconnect

from livepy.broker import BrokerError
from livepy.broker.hub import Event
from livepy.channels import ChannelKind, kind_of, validate_channel_name
from livepy.listeners import PRESENCE_EVENT
from livepy.pusher import codes
from livepy.pusher.config import PusherApp, PusherApps
from livepy.pusher.connection import PusherConnection
from livepy.pusher.signing import valid_channel_auth

if TYPE_CHECKING:
    from livepy.app import LivePy

__all__ = ["PusherServer"]

logger = logging.getLogger("livepy.pusher")

PONG_TIMEOUT = 30.0
CACHE_PREFIXES = ("cache-", "private-cache-", "presence-cache-")


def member_of(channel_data: dict[str, Any]) -> dict[str, Any]:
    """The shared member entry for a pusher ``channel_data``: the user info plus its ``id``."""
    info = channel_data.get("user_info")
    member = dict(info) if isinstance(info, dict) else {}
    member.setdefault("id", str(channel_data["user_id"]))
    return member


class PusherServer:
    """The pusher sockets of one LivePy, per app and per channel."""

    def __init__(self, live: LivePy, apps: PusherApps) -> None:
        self.live = live
        self.apps = apps
        self.connections: dict[str, set[PusherConnection]] = {app.id: set() for app in apps.apps}
        self.subscribers: dict[str, set[PusherConnection]] = {}
        # cache channel -> the frame of its last event, while this process listens on it
        self.cache: dict[str, str] = {}

    @property
    def hub(self) -> Any:
        return self.live.broadcaster.hub

    # -- the socket ----------------------------------------------------------------------

    async def endpoint(self, websocket: WebSocket) -> None:
        await websocket.accept()
        app = self.apps.by_key.get(websocket.path_params.get("key", ""))
        if app is None:
            await _refuse(websocket, codes.APP_NOT_FOUND, "Application does not exist")
            return
        if app.max_connections is not None and len(self.connections[app.id]) >= (
            app.max_connections
        ):
            await _refuse(websocket, codes.OVER_QUOTA, "Application is over connection quota")
            return
        if not app.origin_allowed(websocket.headers.get("origin")):
            await _refuse(websocket, codes.UNAUTHORIZED, "Origin not allowed")
            return
        conn = PusherConnection(app, websocket)
        self.connections[app.id].add(conn)
        self.live.broadcaster.remember_loop()
        payload = {"socket_id": conn.socket_id, "activity_timeout": app.activity_timeout}
        await conn.send("pusher:connection_established", json.dumps(payload))
        watchdog = asyncio.create_task(self._watchdog(conn))
        try:
            while not conn.closed:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    break
                conn.last_received = time.monotonic()
                text = message.get("text")
                if text is None:
                    text = (message.get("bytes") or b"").decode("utf-8", "replace")
                if len(text.encode()) > app.max_message_size:
                    await conn.error(codes.GENERIC_RECONNECT, "Message too large")
                    continue
                await self.handle(conn, text)
        except (WebSocketDisconnect, OSError):
            pass
        finally:
            watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watchdog
            conn.closed = True
            self.connections[app.id].discard(conn)
            for channel in list(conn.channels):
                try:
                    await self.unsubscribe(conn, channel)
                except BrokerError as exc:
                    logger.warning("event=unsubscribe_failed channel=%s error=%s", channel, exc)

    async def _watchdog(self, conn: PusherConnection) -> None:
        """After ``activity_timeout`` of silence send a ping; without an answer, close (4201)."""
        timeout = float(conn.app.activity_timeout)
        pinged = False
        while not conn.closed:
            silent = time.monotonic() - conn.last_received
            if pinged and silent < timeout:
                pinged = False
            if not pinged and silent >= timeout:
                await conn.send("pusher:ping", "{}")
                pinged = True
            elif pinged and silent >= timeout + PONG_TIMEOUT:
                await conn.error(codes.PONG_NOT_RECEIVED, "Pong reply not received", close=True)
                return
            wait = timeout - silent if not pinged else timeout + PONG_TIMEOUT - silent
            await asyncio.sleep(max(0.05, wait))

    async def handle(self, conn: PusherConnection, text: str) -> None:
        try:
            frame = json.loads(text)
            event = frame["event"]
            if not isinstance(event, str):
                raise TypeError("event")
        except (ValueError, KeyError, TypeError):
            await conn.error(codes.GENERIC_RECONNECT, "Invalid message format")
            return
        data = frame.get("data")
        if isinstance(data, str):
            with contextlib.suppress(ValueError):
                data = json.loads(data)
        if event == "pusher:ping":
            await conn.send("pusher:pong", "{}")
        elif event == "pusher:pong":
            pass
        elif event == "pusher:subscribe" and isinstance(data, dict):
            await self.subscribe(conn, data)
        elif event == "pusher:unsubscribe" and isinstance(data, dict):
            channel = data.get("channel")
            if isinstance(channel, str):
                await self.unsubscribe(conn, channel)
        elif event.startswith("client-"):
            await self.client_event(conn, event, frame.get("channel"), frame.get("data"))
        else:
            await conn.error(codes.GENERIC_RECONNECT, "Invalid message format")

    # -- subscriptions -------------------------------------------------------------------

    async def subscribe(self, conn: PusherConnection, data: dict[str, Any]) -> None:
        channel = data.get("channel")
        try:
            channel = validate_channel_name(channel)  # type: ignore[arg-type]
        except ValueError:
            await conn.error(codes.UNAUTHORIZED, "Invalid channel name")
            return
        kind = kind_of(channel)
        channel_data_text = data.get("channel_data")
        if kind is not ChannelKind.PUBLIC:
            signed_data = channel_data_text if kind is ChannelKind.PRESENCE else None
            if not isinstance(signed_data, str | None) or not valid_channel_auth(
                data.get("auth"),
                conn.app.key,
                conn.app.secret,
                conn.socket_id,
                channel,
                signed_data,
            ):
                await self._subscription_error(conn, channel, "Invalid signature", 401)
                return
        member: dict[str, Any] | None = None
        if kind is ChannelKind.PRESENCE:
            try:
                parsed = json.loads(channel_data_text)  # type: ignore[arg-type]
                member = member_of(parsed)
            except (ValueError, TypeError, KeyError):
                await self._subscription_error(conn, channel, "Invalid channel_data", 400)
                return
        if channel in conn.channels:  # subscribed already: confirm again, as Pusher does
            view = conn.presence_view.get(channel)
            payload = "{}" if view is None else json.dumps({"presence": _presence(view)})
            await conn.send("pusher_internal:subscription_succeeded", payload, channel)
            return
        conn.channels.add(channel)
        subscribers = self.subscribers.setdefault(channel, set())
        first = not subscribers
        subscribers.add(conn)
        if first:
            try:
                await self.hub.listen(channel, self.deliver)
            except BrokerError as exc:
                logger.warning("event=subscribe_failed channel=%s error=%s", channel, exc)
                conn.channels.discard(channel)
                subscribers.discard(conn)
                failure = {
                    "type": "SubscriptionError",
                    "error": "Broker unavailable",
                    "status": 503,
                }
                await conn.send("pusher:subscription_error", json.dumps(failure), channel)
                return
        if member is None:
            await conn.send("pusher_internal:subscription_succeeded", "{}", channel)
            await self._replay_cache(conn, channel)
            return
        key = f"pusher.{conn.socket_id}:0"
        user_id = str(member["id"])
        conn.presence_keys[channel] = (key, user_id)
        try:
            await self.hub.backend.presence_set(channel, key, msgpack.packb(member))
            members = await self._members(channel)
        except BrokerError as exc:
            logger.warning("event=presence_failed channel=%s error=%s", channel, exc)
            members = {user_id: member}
        conn.presence_view[channel] = members
        await conn.send(
            "pusher_internal:subscription_succeeded",
            json.dumps({"presence": _presence(members)}),
            channel,
        )
        await self._replay_cache(conn, channel)
        self.live.broadcaster.watch_presence()
        await self.hub.publish(channel, PRESENCE_EVENT, None)

    async def _replay_cache(self, conn: PusherConnection, channel: str) -> None:
        if is_cache_channel(channel):
            cached = self.cache.get(channel)
            if cached is None:
                await conn.send("pusher:cache_miss", channel=channel)
            else:
                await conn.send_text(cached)

    async def _subscription_error(
        self, conn: PusherConnection, channel: str, message: str, status: int
    ) -> None:
        """Channel-scoped, so pusher-js emits it on the channel and Echo's ``.error()`` fires."""
        payload = {"type": "AuthError", "error": message, "status": status}
        await conn.send("pusher:subscription_error", json.dumps(payload), channel)
        await conn.error(codes.UNAUTHORIZED, f"{message} for channel {channel}")

    async def unsubscribe(self, conn: PusherConnection, channel: str) -> None:
        if channel not in conn.channels:
            return
        conn.channels.discard(channel)
        conn.presence_view.pop(channel, None)
        subscribers = self.subscribers.get(channel, set())
        subscribers.discard(conn)
        if not subscribers:
            self.subscribers.pop(channel, None)
            self.cache.pop(channel, None)  # no longer kept up to date
            await self.hub.unlisten(channel, self.deliver)
        presence = conn.presence_keys.pop(channel, None)
        if presence is not None:
            try:
                await self.hub.backend.presence_remove(channel, presence[0])
                await self.hub.publish(channel, PRESENCE_EVENT, None)
            except BrokerError as exc:
                logger.warning("event=presence_failed channel=%s error=%s", channel, exc)

    async def _members(self, channel: str) -> dict[str, Any]:
        """user id -> info, one entry per user however many sockets or components they have."""
        entries = await self.hub.backend.presence_members(channel)
        members: dict[str, Any] = {}
        for raw in sorted(entries.values()):
            member = msgpack.unpackb(raw, raw=False)
            if isinstance(member, dict) and member.get("id") is not None:
                members.setdefault(str(member["id"]), member)
        return members

    # -- client events -------------------------------------------------------------------

    async def client_event(
        self, conn: PusherConnection, event: str, channel: Any, data: Any
    ) -> None:
        policy = conn.app.client_events
        if policy == "none":
            await conn.error(codes.CLIENT_EVENT_REJECTED, "Client events are not enabled")
            return
        if not isinstance(channel, str) or kind_of(channel) is ChannelKind.PUBLIC:
            await conn.error(
                codes.CLIENT_EVENT_REJECTED, "Client events are only for private/presence channels"
            )
            return
        if channel.startswith("private-encrypted-"):
            await conn.error(
                codes.CLIENT_EVENT_REJECTED, "Client events are not supported on encrypted channels"
            )
            return
        if policy == "members" and channel not in conn.channels:
            await conn.error(codes.UNAUTHORIZED, "Not subscribed to the channel")
            return
        if len(event) > 200:
            await conn.error(codes.CLIENT_EVENT_REJECTED, "Event name too long")
            return
        if not conn.take_client_event():
            await conn.error(codes.CLIENT_EVENT_REJECTED, "Client event rejected due to rate limit")
            return
        presence = conn.presence_keys.get(channel)
        envelope = {"data": data, "user_id": presence[1] if presence else None}
        try:
            await self.hub.publish(channel, event, envelope, conn.socket_id)
        except BrokerError as exc:
            logger.warning("event=client_event_failed channel=%s error=%s", channel, exc)

    # -- delivery from the hub -----------------------------------------------------------

    async def deliver(self, event: Event) -> None:
        channel = event.channel
        subscribers = self.subscribers.get(channel)
        if not subscribers:
            return
        if event.name == PRESENCE_EVENT:
            await self._deliver_presence(channel, subscribers)
            return
        frame: dict[str, Any] = {"event": event.name, "channel": channel}
        if event.name.startswith("client-") and isinstance(event.data, dict):
            frame["data"] = event.data.get("data")
            if event.data.get("user_id") is not None:
                frame["user_id"] = event.data["user_id"]
        else:
            data = event.data
            frame["data"] = data if isinstance(data, str) else json.dumps(data, default=str)
        text = json.dumps(frame, separators=(",", ":"))
        if is_cache_channel(channel) and not event.name.startswith("client-"):
            self.cache[channel] = text
        for conn in list(subscribers):
            if event.exclude is None or event.exclude != conn.socket_id:
                await conn.send_text(text)

    async def _deliver_presence(self, channel: str, subscribers: set[PusherConnection]) -> None:
        try:
            now = await self._members(channel)
        except BrokerError as exc:
            logger.warning("event=presence_failed channel=%s error=%s", channel, exc)
            return
        for conn in list(subscribers):
            before = conn.presence_view.get(channel)
            if before is None:
                continue
            conn.presence_view[channel] = now
            for user_id, info in now.items():
                if user_id not in before:
                    payload = json.dumps({"user_id": user_id, "user_info": info})
                    await conn.send("pusher_internal:member_added", payload, channel)
            for user_id in before:
                if user_id not in now:
                    payload = json.dumps({"user_id": user_id})
                    await conn.send("pusher_internal:member_removed", payload, channel)

    async def terminate(self, app: PusherApp, user_id: str) -> int:
        """Close this process's sockets of ``app`` that joined a presence channel as ``user_id``."""
        closing = [
            conn
            for conn in list(self.connections[app.id])
            if any(uid == user_id for _, uid in conn.presence_keys.values())
        ]
        for conn in closing:
            await conn.error(codes.UNAUTHORIZED, "Connection terminated", close=True)
        return len(closing)


def is_cache_channel(channel: str) -> bool:
    return channel.startswith(CACHE_PREFIXES)


def _presence(members: dict[str, Any]) -> dict[str, Any]:
    return {"count": len(members), "ids": list(members), "hash": members}


async def _refuse(websocket: WebSocket, code: int, message: str) -> None:
    text = json.dumps(
        {"event": "pusher:error", "data": json.dumps({"code": code, "message": message})}
    )
    with contextlib.suppress(OSError, RuntimeError, WebSocketDisconnect):
        await websocket.send_text(text)
        await websocket.close(code, message)
