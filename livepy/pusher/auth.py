"""``POST /broadcasting/auth``: the form pusher-js posts to join a private or presence channel.

It runs the same ``@live.channel`` callbacks as components, for the user that
``live.resolve_user(request)`` finds, and signs for the first configured app.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse

from livepy.channels import ChannelKind, kind_of, validate_channel_name
from livepy.pusher.signing import channel_auth

if TYPE_CHECKING:
    from livepy.app import LivePy
    from livepy.pusher.config import PusherApps

__all__ = ["ENCRYPTED_PREFIX", "auth_endpoint"]

ENCRYPTED_PREFIX = "private-encrypted-"


async def auth_endpoint(live: LivePy, apps: PusherApps, request: Request) -> JSONResponse:
    # pusher-js posts application/x-www-form-urlencoded; parsed here without python-multipart.
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    socket_id = form.get("socket_id", [None])[0]
    channel = form.get("channel_name", [None])[0]
    if not isinstance(socket_id, str) or not isinstance(channel, str):
        return JSONResponse({"error": "socket_id and channel_name are required"}, 400)
    try:
        validate_channel_name(channel)
    except ValueError as exc:
        return JSONResponse({"error": str(exc)}, 400)
    kind = kind_of(channel)
    if kind is ChannelKind.PUBLIC:
        return JSONResponse({"error": "public channels need no authorization"}, 400)
    user = await live.resolve_user(request)
    result = await live.broadcaster.authorizer.authorize(user, channel)
    if not result.allowed:
        return JSONResponse({"error": "Forbidden"}, 403)
    app = apps.default
    body: dict[str, Any] = {}
    channel_data = None
    if kind is ChannelKind.PRESENCE:
        member = result.member or {}
        channel_data = json.dumps({"user_id": str(member["id"]), "user_info": member})
        body["channel_data"] = channel_data
    if channel.startswith(ENCRYPTED_PREFIX):
        shared_secret = app.shared_secret(channel)
        if shared_secret is None:
            return JSONResponse({"error": "no encryption master key is configured"}, 400)
        body["shared_secret"] = shared_secret
    body["auth"] = channel_auth(app.key, app.secret, socket_id, channel, channel_data)
    return JSONResponse(body)
