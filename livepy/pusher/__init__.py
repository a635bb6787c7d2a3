"""A Pusher protocol 7 server on livepy's channels: pusher-js, Laravel Echo and the Pusher
server SDKs work against livepy unchanged (see docs/howto/pusher.md)."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from starlette.routing import Route, WebSocketRoute

from livepy.pusher.config import PusherApp, PusherApps
from livepy.pusher.server import PusherServer

if TYPE_CHECKING:
    from livepy.app import LivePy

__all__ = ["PusherApp", "PusherApps", "PusherServer", "pusher_routes"]


def pusher_routes(live: LivePy, server: PusherServer) -> list[Any]:
    from livepy.pusher import http_api
    from livepy.pusher.auth import auth_endpoint
    from livepy.pusher.users import user_auth_endpoint

    prefix = server.apps.path
    apps = prefix + "/apps/{app_id}"
    return [
        WebSocketRoute(prefix + "/app/{key}", server.endpoint),
        Route(
            prefix + "/broadcasting/auth",
            partial(auth_endpoint, live, server.apps),
            methods=["POST"],
        ),
        Route(
            prefix + "/broadcasting/user-auth",
            partial(user_auth_endpoint, live, server.apps),
            methods=["POST"],
        ),
        Route(apps + "/events", partial(http_api.events, server), methods=["POST"]),
        Route(apps + "/batch_events", partial(http_api.batch_events, server), methods=["POST"]),
        Route(apps + "/channels", partial(http_api.channels, server), methods=["GET"]),
        Route(
            apps + "/channels/{channel}", partial(http_api.channel_info, server), methods=["GET"]
        ),
        Route(
            apps + "/channels/{channel}/users",
            partial(http_api.channel_users, server),
            methods=["GET"],
        ),
        Route(
            apps + "/users/{user_id}/terminate_connections",
            partial(http_api.terminate_connections, server),
            methods=["POST"],
        ),
        Route(  # the path the Python SDK (3.3) uses, without the app id
            prefix + "/users/{user_id}/terminate_connections",
            partial(http_api.terminate_connections, server),
            methods=["POST"],
        ),
        Route(apps + "/connections", partial(http_api.connections, server), methods=["GET"]),
        Route(prefix + "/up", http_api.health, methods=["GET"]),
    ]
