"""The Pusher HTTP API: trigger events, and ask about channels, on signed requests.

Triggered events go through ``live.broadcast``, so livepy components listening on the
channel re-render as well as pusher-js clients receive them. Every request is signed per
the Pusher spec; ``body_md5`` is accepted signed or not (Reverb's form), and
``auth_timestamp`` must be within ``TIMESTAMP_WINDOW`` seconds of now.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from livepy.broker import BrokerError
from livepy.channels import ChannelKind, kind_of, validate_channel_name
from livepy.pusher.shared import connections_tally
from livepy.pusher.signing import verify_request
from livepy.pusher.users import is_user_channel

if TYPE_CHECKING:
    from livepy.pusher.config import PusherApp
    from livepy.pusher.server import PusherServer

__all__ = [
    "ApiError",
    "batch_events",
    "channel_info",
    "channel_users",
    "channels",
    "connections",
    "events",
    "health",
    "terminate_connections",
]

TIMESTAMP_WINDOW = 600
MAX_DATA_BYTES = 10_240
MAX_CHANNELS = 100
MAX_BATCH = 10
MAX_NAME = 200
TRIGGER_INFO = frozenset({"subscription_count", "user_count"})


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    def response(self) -> Response:
        return JSONResponse({"error": self.message}, self.status)


async def _authenticated(server: PusherServer, request: Request) -> tuple[PusherApp, bytes]:
    app_id = request.path_params.get("app_id")
    if app_id is None:  # the Python SDK's terminate_user_connections leaves out /apps/{id}
        by_key = server.apps.by_key.get(request.query_params.get("auth_key", ""))
        app_id = by_key.id if by_key is not None else ""
    app = server.apps.by_id.get(app_id)
    if app is None:
        raise ApiError(404, f"No matching application for ID [{app_id}].")
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > app.max_request_size:
        raise ApiError(413, "Payload too large.")
    body = await request.body()
    if len(body) > app.max_request_size:
        raise ApiError(413, "Payload too large.")
    query = dict(request.query_params)
    if query.get("auth_key") != app.key:
        raise ApiError(401, "Authentication signature invalid.")
    timestamp = query.get("auth_timestamp", "")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > TIMESTAMP_WINDOW:
        raise ApiError(401, "Timestamp expired.")
    if not verify_request(app.secret, request.method, request.url.path, query, body):
        raise ApiError(401, "Authentication signature invalid.")
    return app, body


def _json_body(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body or b"{}")
    except ValueError:
        raise ApiError(400, "Invalid JSON body.") from None
    if not isinstance(value, dict):
        raise ApiError(400, "The body must be a JSON object.")
    return value


@dataclass(frozen=True, slots=True)
class _Event:
    channels: list[str]
    name: str
    data: str
    socket_id: str | None
    info: frozenset[str]  # attributes to report per channel after the trigger


def _event(item: Any) -> _Event:
    """Validate one event of ``/events`` or of a ``/batch_events`` batch."""
    if not isinstance(item, dict):
        raise ApiError(400, "Each event must be an object.")
    name, data = item.get("name"), item.get("data")
    if not isinstance(name, str) or not name:
        raise ApiError(400, "The event name is required.")
    if len(name) > MAX_NAME:
        raise ApiError(400, f"Event name too long (at most {MAX_NAME} characters).")
    if not isinstance(data, str):
        data = json.dumps(data)
    if len(data.encode()) > MAX_DATA_BYTES:
        raise ApiError(413, f"Event data too large (at most {MAX_DATA_BYTES} bytes).")
    raw = item.get("channels", [item["channel"]] if "channel" in item else None)
    if not isinstance(raw, list) or not raw:
        raise ApiError(400, "The channel or channels are required.")
    if len(raw) > MAX_CHANNELS:
        raise ApiError(400, f"Too many channels (at most {MAX_CHANNELS}).")
    try:
        names = [
            channel if is_user_channel(channel) else validate_channel_name(channel)
            for channel in raw
        ]
    except ValueError as exc:
        raise ApiError(400, str(exc)) from None
    socket_id = item.get("socket_id")
    if socket_id is not None and not isinstance(socket_id, str):
        raise ApiError(400, "socket_id must be a string.")
    return _Event(names, name, data, socket_id, _trigger_info(item.get("info")))


def _trigger_info(value: Any) -> frozenset[str]:
    """The ``info`` of a trigger: a comma-separated subset of ``TRIGGER_INFO``."""
    if value is None:
        return frozenset()
    if not isinstance(value, str):
        raise ApiError(400, "info must be a comma-separated string.")
    fields = frozenset(f.strip() for f in value.split(",") if f.strip())
    unknown = sorted(fields - TRIGGER_INFO)
    if unknown:
        raise ApiError(
            400,
            f"Unknown info attribute {unknown[0]!r} (one of {', '.join(sorted(TRIGGER_INFO))}).",
        )
    return fields


def _decoded(data: str) -> Any:
    """Objects and lists travel decoded, so livepy listeners get plain data."""
    try:
        value = json.loads(data)
    except ValueError:
        return data
    return value if isinstance(value, dict | list) else data


async def _trigger(server: PusherServer, event: _Event) -> None:
    users = [channel for channel in event.channels if is_user_channel(channel)]
    channels = [channel for channel in event.channels if not is_user_channel(channel)]
    data = _decoded(event.data)
    try:
        if channels:
            await server.live.broadcast(channels, event.name, data, exclude=event.socket_id)
        for channel in users:  # send_to_user: '#server-to-user-<id>' is no livepy channel name
            await server.hub.publish(channel, event.name, data, event.socket_id)
    except BrokerError:
        raise ApiError(500, "Internal server error.") from None


async def _attributes(server: PusherServer, channel: str, info: frozenset[str]) -> dict[str, int]:
    """The requested counts of one channel; ``user_count`` on presence channels only."""
    result: dict[str, int] = {}
    try:
        if "user_count" in info and kind_of(channel) is ChannelKind.PRESENCE:
            result["user_count"] = len(await server._members(channel))
        if "subscription_count" in info:
            result["subscription_count"] = await server.subscription_count(channel)
    except BrokerError:
        raise ApiError(500, "Internal server error.") from None
    return result


async def events(server: PusherServer, request: Request) -> Response:
    """``{}``, or with ``info`` the spec's ``{"channels": {name: {attribute: n}}}`` for each
    channel the event went to."""
    try:
        _, body = await _authenticated(server, request)
        event = _event(_json_body(body))
        await _trigger(server, event)
        if not event.info:
            return JSONResponse({})
        report = {
            channel: await _attributes(server, channel, event.info)
            for channel in dict.fromkeys(event.channels)
            if not is_user_channel(channel)
        }
    except ApiError as exc:
        return exc.response()
    return JSONResponse({"channels": report})


async def batch_events(server: PusherServer, request: Request) -> Response:
    """``{"batch": {}}``, or when an event asks for ``info`` the spec's ``{"batch": [...]}``:
    one object per event, in order, with its channel's attributes (``{}`` without ``info``)."""
    try:
        _, body = await _authenticated(server, request)
        batch = _json_body(body).get("batch")
        if not isinstance(batch, list):
            raise ApiError(400, "The batch is required.")
        if len(batch) > MAX_BATCH:
            raise ApiError(400, f"Too many events in the batch (at most {MAX_BATCH}).")
        checked = [_event(item) for item in batch]
        if any(event.info and len(event.channels) != 1 for event in checked):
            raise ApiError(400, "A batch event with info names a single channel.")
        for event in checked:
            await _trigger(server, event)
        if not any(event.info for event in checked):
            return JSONResponse({"batch": {}})
        report = [
            await _attributes(server, event.channels[0], event.info) if event.info else {}
            for event in checked
        ]
    except ApiError as exc:
        return exc.response()
    return JSONResponse({"batch": report})


def _info_fields(request: Request) -> set[str]:
    return {f for f in request.query_params.get("info", "").split(",") if f}


async def _user_count(server: PusherServer, channel: str) -> int:
    try:
        return len(await server._members(channel))
    except BrokerError:
        return 0


async def channels(server: PusherServer, request: Request) -> Response:
    """Channels with pusher subscribers on any process (or listeners on this one).

    ``filter_by_prefix`` narrows them; ``info=user_count`` needs a ``presence-`` prefix
    (400 otherwise, as Pusher answers)."""
    try:
        await _authenticated(server, request)
        prefix = request.query_params.get("filter_by_prefix", "")
        info = _info_fields(request)
        if "user_count" in info and not prefix.startswith("presence-"):
            raise ApiError(400, "user_count is only available for presence channels.")
        result: dict[str, Any] = {}
        try:
            occupied = await server.occupied_channels()
        except BrokerError:
            raise ApiError(500, "Internal server error.") from None
        for channel in sorted(occupied):
            if not channel.startswith(prefix):
                continue
            entry: dict[str, Any] = {}
            if "user_count" in info:
                entry["user_count"] = await _user_count(server, channel)
            if "subscription_count" in info:  # Reverb's extension of the spec
                try:
                    entry["subscription_count"] = await server.subscription_count(channel)
                except BrokerError:
                    raise ApiError(500, "Internal server error.") from None
            result[channel] = entry
    except ApiError as exc:
        return exc.response()
    return JSONResponse({"channels": result})


async def channel_info(server: PusherServer, request: Request) -> Response:
    try:
        await _authenticated(server, request)
        channel = request.path_params["channel"]
        info = _info_fields(request)
        presence = kind_of(channel) is ChannelKind.PRESENCE
        if "user_count" in info and not presence:
            raise ApiError(400, "user_count is only available for presence channels.")
        try:
            count = await server.subscription_count(channel)
        except BrokerError:
            raise ApiError(500, "Internal server error.") from None
        occupied = count > 0 or server.hub.listener_count(channel) > 0
        result: dict[str, Any] = {"occupied": occupied}
        if "subscription_count" in info:
            result["subscription_count"] = count
        if "user_count" in info:
            result["user_count"] = await _user_count(server, channel)
    except ApiError as exc:
        return exc.response()
    return JSONResponse(result)


async def channel_users(server: PusherServer, request: Request) -> Response:
    try:
        await _authenticated(server, request)
        channel = request.path_params["channel"]
        if kind_of(channel) is not ChannelKind.PRESENCE:
            raise ApiError(400, "Users are only available for presence channels.")
        try:
            members = await server._members(channel)
        except BrokerError:
            raise ApiError(500, "Internal server error.") from None
    except ApiError as exc:
        return exc.response()
    return JSONResponse({"users": [{"id": user_id} for user_id in members]})


async def terminate_connections(server: PusherServer, request: Request) -> Response:
    """Close the user's sockets on every process (signed in, or in a presence channel, as
    that user id)."""
    try:
        app, _ = await _authenticated(server, request)
        await server.terminate(app, request.path_params["user_id"])
    except ApiError as exc:
        return exc.response()
    return JSONResponse({})


async def health(request: Request) -> Response:
    return JSONResponse({"health": "OK"})


async def connections(server: PusherServer, request: Request) -> Response:
    """Reverb's ``{"connections": N}``: every socket of the app, on every process."""
    try:
        app, _ = await _authenticated(server, request)
        local = len(server.connections[app.id])
        try:
            total = await server.tallies.total(connections_tally(app.id), local)
        except BrokerError:
            raise ApiError(500, "Internal server error.") from None
    except ApiError as exc:
        return exc.response()
    return JSONResponse({"connections": total})
