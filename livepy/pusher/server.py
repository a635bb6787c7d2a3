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
from livepy.broker.hub import Event, decode_event
from livepy.channels import ChannelKind, kind_of, validate_channel_name
from livepy.listeners import PRESENCE_EVENT
from livepy.pusher import codes, lean
from livepy.pusher.config import PusherApp, PusherApps
from livepy.pusher.connection import PusherConnection
from livepy.pusher.shared import (
    CHANNEL_INDEX,
    SharedTallies,
    connections_tally,
    subscriptions_tally,
)
from livepy.pusher.signing import valid_channel_auth, valid_user_auth
from livepy.pusher.users import MAX_USER_ID, USER_CHANNEL_PREFIX, is_user_channel
from livepy.pusher.webhooks import WebhookReporter

if TYPE_CHECKING:
    from livepy.app import LivePy

__all__ = ["PusherServer"]

logger = logging.getLogger("livepy.pusher")

PONG_TIMEOUT = 30.0
HEARTBEAT_TICK = 1.0  # how often the one heartbeat sweep visits every socket
CACHE_PREFIXES = ("cache-", "private-cache-", "presence-cache-")
CACHE_LOOKBACK = 20  # history entries searched for a cache channel's last server event
COUNT_DELAY = 0.1  # subscription_count events are debounced per channel by this much
# Terminate and subscription-count notices reach every process here ('#': never a channel).
CONTROL_CHANNEL = "#pusher.control"


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
        # One presence list for both sides, so components obey the Pusher app's caps too.
        live.broadcaster.presence_limits = apps.default.presence_limits
        self.connections: dict[str, set[PusherConnection]] = {app.id: set() for app in apps.apps}
        self.subscribers: dict[str, set[PusherConnection]] = {}
        self.tallies = SharedTallies(lambda: self.hub)
        self.pong_timeout = PONG_TIMEOUT
        self._counting = any(app.subscription_count for app in apps.apps)
        self._heartbeat: asyncio.Task[None] | None = None
        self._counts_due: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()  # debounced count sends in flight
        self.webhooks = WebhookReporter(self)

    ws_protocol = lean.PusherWebSocketProtocol  # uvicorn's ``ws=`` for lean Pusher sockets

    @property
    def hub(self) -> Any:
        return self.live.broadcaster.hub

    # -- the socket ----------------------------------------------------------------------

    async def endpoint(self, websocket: WebSocket) -> None:
        """The ASGI face of the protocol: admit, then feed each frame to ``receive``."""
        await websocket.accept()
        app = self.apps.by_key.get(websocket.path_params.get("key", ""))
        if app is None:
            await _refuse(websocket, codes.APP_NOT_FOUND, "Application does not exist")
            return
        if not app.origin_allowed(websocket.headers.get("origin")):
            await _refuse(websocket, codes.UNAUTHORIZED, "Origin not allowed")
            return
        conn = PusherConnection(app, websocket)
        if not await self.open(conn):
            await _refuse(websocket, codes.OVER_QUOTA, "Application is over connection quota")
            return
        try:
            while not conn.closed:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    break
                text = message.get("text")
                if text is None:
                    text = (message.get("bytes") or b"").decode("utf-8", "replace")
                await self.receive(conn, text)
        except (WebSocketDisconnect, OSError):
            pass
        finally:
            await self.gone(conn)

    async def open(self, conn: PusherConnection) -> bool:
        """Register the socket and greet it; False (unregistered) when over ``max_connections``.

        The socket is counted before the quota is read, so two sockets arriving together on
        one process cannot both take the last place; across processes the count is as fresh
        as the last write of each process (a few milliseconds with Redis).
        """
        app = conn.app
        local = self.connections[app.id]
        local.add(conn)
        if app.max_connections is not None:
            try:
                total = await self.tallies.total(connections_tally(app.id), len(local))
            except BrokerError:
                total = len(local)
            if total > app.max_connections:
                local.discard(conn)
                conn.closed = True
                return False
        self.live.broadcaster.remember_loop()
        self._start_heartbeat()
        await self._listen_control()
        payload = {"socket_id": conn.socket_id, "activity_timeout": app.activity_timeout}
        await conn.send("pusher:connection_established", json.dumps(payload))
        await self.tallies.store(connections_tally(app.id), lambda: len(local))
        return True

    async def receive(self, conn: PusherConnection, text: str) -> None:
        conn.last_received = time.monotonic()
        conn.pinged = False
        limit = conn.app.max_message_size
        if len(text) > limit or (not text.isascii() and len(text.encode()) > limit):
            await conn.error(codes.GENERIC_RECONNECT, "Message too large")
            return
        await self.handle(conn, text)

    async def gone(self, conn: PusherConnection) -> None:
        """The socket closed: leave its channels and uncount it."""
        conn.closed = True
        local = self.connections[conn.app.id]
        local.discard(conn)
        for channel in list(conn.channels):
            try:
                await self.unsubscribe(conn, channel)
            except BrokerError as exc:
                logger.warning("event=unsubscribe_failed channel=%s error=%s", channel, exc)
        await self.tallies.store(connections_tally(conn.app.id), lambda: len(local))

    # -- heartbeat: one sweep for every socket, not a timer each ---------------------------

    def _start_heartbeat(self) -> None:
        if self._heartbeat is None or self._heartbeat.done():
            self._heartbeat = asyncio.get_running_loop().create_task(self._sweep_heartbeats())

    async def _sweep_heartbeats(self) -> None:
        """After ``activity_timeout`` of silence send a ping; without an answer, close (4201)."""
        while any(self.connections.values()):
            await asyncio.sleep(HEARTBEAT_TICK)
            now = time.monotonic()
            for conns in self.connections.values():
                for conn in list(conns):
                    silent = now - conn.last_received
                    timeout = conn.app.activity_timeout
                    if conn.pinged and silent >= timeout + self.pong_timeout:
                        await conn.error(
                            codes.PONG_NOT_RECEIVED, "Pong reply not received", close=True
                        )
                    elif not conn.pinged and silent >= timeout:
                        conn.pinged = True
                        await conn.send("pusher:ping", "{}")

    # -- frames ----------------------------------------------------------------------------

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
        elif event == "pusher:signin" and isinstance(data, dict):
            await self.signin(conn, data)
        elif event.startswith("client-"):
            await self.client_event(conn, event, frame.get("channel"), frame.get("data"))
        else:
            await conn.error(codes.GENERIC_RECONNECT, "Invalid message format")

    # -- subscriptions -------------------------------------------------------------------

    async def subscribe(self, conn: PusherConnection, data: dict[str, Any]) -> None:
        channel = data.get("channel")
        if isinstance(channel, str) and is_user_channel(channel):
            if conn.user_id is None or channel != USER_CHANNEL_PREFIX + conn.user_id:
                await self._subscription_error(conn, channel, "Not signed in as this user", 403)
                return
        else:
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
            except (ValueError, TypeError, KeyError, AttributeError):
                await self._subscription_error(conn, channel, "Invalid channel_data", 400)
                return
        if channel in conn.channels:  # subscribed already: confirm again, as Pusher does
            view = conn.presence_view.get(channel)
            payload = "{}" if view is None else json.dumps({"presence": _presence(view)})
            await conn.send("pusher_internal:subscription_succeeded", payload, channel)
            return
        if member is not None and not await self._presence_admits(conn, channel, parsed):
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
            await self.webhooks.before_first_subscriber(conn.app, channel)
        await self._channel_changed(channel)
        if member is None:
            await conn.send("pusher_internal:subscription_succeeded", "{}", channel)
            await self._replay_cache(conn, channel)
            return
        key = f"pusher.{conn.socket_id}:0"
        user_id = str(member["id"])
        conn.presence_keys[channel] = (key, user_id)
        was_present = await self.webhooks.member_present(conn.app, channel, user_id)
        try:
            await self.hub.backend.presence_set(channel, key, msgpack.packb(member))
            members = await self._members(channel)
        except BrokerError as exc:
            logger.warning("event=presence_failed channel=%s error=%s", channel, exc)
            members = {user_id: member}
        if was_present is False:
            self.webhooks.member_added(conn.app, channel, user_id)
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
        """The channel's last server event from the broker's history (shared by every
        process), or ``pusher:cache_miss``."""
        if not is_cache_channel(channel):
            return
        try:
            recent = await self.hub.backend.recent(channel, CACHE_LOOKBACK)
        except BrokerError as exc:
            logger.warning("event=cache_failed channel=%s error=%s", channel, exc)
            recent = []
        for delivery in reversed(recent):
            try:
                event = decode_event(delivery)
            except Exception:  # a foreign or damaged entry: look further back
                continue
            if is_cacheable(event.name):
                await conn.send_text(event_frame(event))
                return
        await conn.send("pusher:cache_miss", channel=channel)

    async def _channel_changed(self, channel: str) -> None:
        """Share this process's subscriber count of ``channel``; announce it if counted."""
        if channel.startswith("#"):
            return
        subscribers = self.subscribers
        await self.tallies.store(
            subscriptions_tally(channel), lambda: len(subscribers.get(channel, ()))
        )
        await self.tallies.mark(CHANNEL_INDEX, channel, lambda: bool(subscribers.get(channel)))
        if self._counting and kind_of(channel) is not ChannelKind.PRESENCE:
            try:
                await self.hub.publish(CONTROL_CHANNEL, "count", channel)
            except BrokerError as exc:
                logger.warning("event=count_failed channel=%s error=%s", channel, exc)

    async def subscription_count(self, channel: str) -> int:
        """Pusher sockets subscribed to ``channel`` on every process."""
        return await self.tallies.total(subscriptions_tally(channel))

    async def occupied_channels(self) -> set[str]:
        """Channels with a pusher subscriber on any process, or a listener on this one."""
        shared = await self.tallies.members(CHANNEL_INDEX)
        return shared | {ch for ch in self.hub.channels() if not ch.startswith("#")}

    async def _subscription_error(
        self, conn: PusherConnection, channel: str, message: str, status: int
    ) -> None:
        """Channel-scoped, so pusher-js emits it on the channel and Echo's ``.error()`` fires."""
        payload = {"type": "AuthError", "error": message, "status": status}
        await conn.send("pusher:subscription_error", json.dumps(payload), channel)
        await conn.error(codes.UNAUTHORIZED, f"{message} for channel {channel}")

    async def _presence_admits(
        self, conn: PusherConnection, channel: str, channel_data: dict[str, Any]
    ) -> bool:
        """Pusher's presence limits (member count, id length, info size); a refusal is a
        channel-scoped ``pusher:subscription_error`` only: the socket and its other channels
        are fine."""
        limits = conn.app.presence_limits
        user_id = str(channel_data["user_id"])
        status, refusal = 400, limits.bad_member(user_id, channel_data.get("user_info"))
        if refusal is None:
            status, refusal = 403, await limits.full(self.hub, channel, user_id)
        if refusal is None:
            return True
        payload = {"type": "LimitReached", "error": refusal, "status": status}
        await conn.send("pusher:subscription_error", json.dumps(payload), channel)
        return False

    async def unsubscribe(self, conn: PusherConnection, channel: str) -> None:
        if channel not in conn.channels:
            return
        conn.channels.discard(channel)
        conn.presence_view.pop(channel, None)
        subscribers = self.subscribers.get(channel, set())
        subscribers.discard(conn)
        if not subscribers:
            self.subscribers.pop(channel, None)
            await self.hub.unlisten(channel, self.deliver)
        await self._channel_changed(channel)
        presence = conn.presence_keys.pop(channel, None)
        if presence is not None:
            try:
                await self.hub.backend.presence_remove(channel, presence[0])
                await self.hub.publish(channel, PRESENCE_EVENT, None)
            except BrokerError as exc:
                logger.warning("event=presence_failed channel=%s error=%s", channel, exc)
            if await self.webhooks.member_present(conn.app, channel, presence[1]) is False:
                self.webhooks.member_removed(conn.app, channel, presence[1])
        if not subscribers:
            await self.webhooks.after_last_subscriber(conn.app, channel)

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
            return
        self.webhooks.client_event(
            conn.app, channel, event, data, conn.socket_id, envelope["user_id"]
        )

    # -- delivery from the hub -----------------------------------------------------------

    async def deliver(self, event: Event) -> None:
        channel = event.channel
        subscribers = self.subscribers.get(channel)
        if not subscribers:
            return
        if event.name == PRESENCE_EVENT:
            await self._deliver_presence(channel, subscribers)
            return
        text = event_frame(event)
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

    # -- users and control across processes --------------------------------------------

    async def signin(self, conn: PusherConnection, data: dict[str, Any]) -> None:
        user_data = data.get("user_data")
        if not isinstance(user_data, str) or not valid_user_auth(
            data.get("auth"), conn.app.key, conn.app.secret, conn.socket_id, user_data
        ):
            await conn.error(codes.UNAUTHORIZED, "Invalid signature for pusher:signin")
            return
        try:
            user_id = json.loads(user_data)["id"]
        except (ValueError, TypeError, KeyError):
            user_id = None
        if not isinstance(user_id, str) or not 0 < len(user_id) <= MAX_USER_ID:
            await conn.error(codes.UNAUTHORIZED, "user_data needs an id string")
            return
        conn.user_id = user_id
        await conn.send("pusher:signin_success", json.dumps({"user_data": user_data}))

    async def send_to_user(self, user_id: str, event: str, data: Any = None) -> None:
        """An event for every signed-in socket of ``user_id``, on every process."""
        await self.hub.publish(USER_CHANNEL_PREFIX + user_id, event, data)

    async def terminate(self, app: PusherApp, user_id: str) -> None:
        """Close, on every process, the sockets of ``app`` signed in as ``user_id`` or that
        joined a presence channel as ``user_id``."""
        try:
            await self.hub.publish(CONTROL_CHANNEL, "terminate", [app.id, user_id])
        except BrokerError as exc:  # no broker: this process at least
            logger.warning("event=terminate_failed error=%s", exc)
            await self._terminate_here(app.id, user_id)

    async def _terminate_here(self, app_id: str, user_id: str) -> int:
        closing = [
            conn
            for conn in list(self.connections.get(app_id, ()))
            if conn.user_id == user_id
            or any(uid == user_id for _, uid in conn.presence_keys.values())
        ]
        for conn in closing:
            await conn.error(codes.UNAUTHORIZED, "Connection terminated", close=True)
        return len(closing)

    async def _listen_control(self) -> None:
        if self.hub.listener_count(CONTROL_CHANNEL):
            return
        try:
            await self.hub.listen(CONTROL_CHANNEL, self._on_control)
        except BrokerError as exc:
            logger.warning("event=control_unavailable error=%s", exc)

    async def _on_control(self, event: Event) -> None:
        if event.name == "terminate" and isinstance(event.data, list) and len(event.data) == 2:
            await self._terminate_here(str(event.data[0]), str(event.data[1]))
        elif event.name == "count" and isinstance(event.data, str):
            channel = event.data
            if channel in self.subscribers and channel not in self._counts_due:
                self._counts_due.add(channel)
                task = asyncio.get_running_loop().create_task(self._send_count(channel))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def _send_count(self, channel: str) -> None:
        await asyncio.sleep(COUNT_DELAY)  # coalesce a burst of joins into one event
        self._counts_due.discard(channel)
        try:
            total = await self.subscription_count(channel)
        except BrokerError as exc:
            logger.warning("event=count_failed channel=%s error=%s", channel, exc)
            return
        payload = json.dumps({"subscription_count": total})
        for conn in list(self.subscribers.get(channel, ())):
            if conn.app.subscription_count:
                await conn.send("pusher_internal:subscription_count", payload, channel)


def is_cache_channel(channel: str) -> bool:
    return channel.startswith(CACHE_PREFIXES)


def is_cacheable(name: str) -> bool:
    """Server events only: not whispers, nor livepy's internal ``$`` events."""
    return not name.startswith(("client-", "$", "pusher"))


def event_frame(event: Event) -> str:
    """The text frame pusher-js gets for a hub event (``data`` JSON-encoded, as Pusher does)."""
    frame: dict[str, Any] = {"event": event.name, "channel": event.channel}
    if event.name.startswith("client-") and isinstance(event.data, dict):
        frame["data"] = event.data.get("data")
        if event.data.get("user_id") is not None:
            frame["user_id"] = event.data["user_id"]
    else:
        data = event.data
        frame["data"] = data if isinstance(data, str) else json.dumps(data, default=str)
    return json.dumps(frame, separators=(",", ":"))


def _presence(members: dict[str, Any]) -> dict[str, Any]:
    return {"count": len(members), "ids": list(members), "hash": members}


async def _refuse(websocket: WebSocket, code: int, message: str) -> None:
    text = json.dumps(
        {"event": "pusher:error", "data": json.dumps({"code": code, "message": message})}
    )
    with contextlib.suppress(OSError, RuntimeError, WebSocketDisconnect):
        await websocket.send_text(text)
        await websocket.close(code, message)
