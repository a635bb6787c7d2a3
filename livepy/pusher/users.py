"""User sign-in (``pusher:signin``): who a socket belongs to, for ``send_to_user`` and terminate.

pusher-js's ``signin()`` posts ``socket_id`` to the user authentication endpoint
(``/broadcasting/user-auth`` here), which answers ``{"auth", "user_data"}`` signed as
``HMAC_SHA256(secret, "<socket_id>::user::<user_data>")``; the socket then sends
``pusher:signin`` with both, gets ``pusher:signin_success``, and subscribes to its
``#server-to-user-<id>`` channel, where the SDKs' ``send_to_user`` triggers land.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse

from livepy.pusher.signing import user_auth

if TYPE_CHECKING:
    from livepy.app import LivePy
    from livepy.pusher.config import PusherApps

__all__ = [
    "USER_CHANNEL_PREFIX",
    "UserData",
    "default_user_data",
    "is_user_channel",
    "user_auth_endpoint",
]

USER_CHANNEL_PREFIX = "#server-to-user-"
MAX_USER_ID = 200

UserData = Callable[[Any], "dict[str, Any] | Awaitable[dict[str, Any] | None] | None"]


def is_user_channel(channel: str) -> bool:
    user_id = channel[len(USER_CHANNEL_PREFIX) :]
    return channel.startswith(USER_CHANNEL_PREFIX) and 0 < len(user_id) <= MAX_USER_ID


def default_user_data(user: Any) -> dict[str, Any] | None:
    """``{"id": ...}`` from the resolved user: a dict with ``id``, an object's ``id``, or the
    user itself when it is a string or a number."""
    if user is None:
        return None
    if isinstance(user, dict):
        return dict(user) if user.get("id") is not None else None
    if isinstance(user, str | int):
        return {"id": str(user)}
    user_id = getattr(user, "id", None)
    return {"id": str(user_id)} if user_id is not None else None


async def user_auth_endpoint(live: LivePy, apps: PusherApps, request: Request) -> JSONResponse:
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    socket_id = form.get("socket_id", [None])[0]
    if not isinstance(socket_id, str) or not socket_id:
        return JSONResponse({"error": "socket_id is required"}, 400)
    user = await live.resolve_user(request)
    found = apps.user_data(user)
    data = await found if inspect.isawaitable(found) else found
    if not isinstance(data, dict) or data.get("id") in (None, ""):
        return JSONResponse({"error": "Forbidden"}, 403)
    data = {**data, "id": str(data["id"])}  # pusher-js requires a string id
    if len(data["id"]) > MAX_USER_ID:
        return JSONResponse({"error": f"user id over {MAX_USER_ID} characters"}, 400)
    user_data = json.dumps(data, separators=(",", ":"))
    app = apps.default
    return JSONResponse(
        {"auth": user_auth(app.key, app.secret, socket_id, user_data), "user_data": user_data}
    )
