"""LivePy: the object an application creates. It owns configuration, templates and routes."""

from __future__ import annotations

import inspect
import logging
import os
from collections.abc import Awaitable, Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from os import PathLike
from typing import TYPE_CHECKING, Any, TypeVar

from starlette.requests import HTTPConnection, Request
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp

from livepy.broadcasting import Broadcaster, BroadcastEvent
from livepy.exceptions import ConfigurationError
from livepy.features.uploads import UploadSettings, UploadStore
from livepy.features.uploads.endpoint import upload_routes
from livepy.metrics import Metrics
from livepy.paths import JS_DIR, TEMPLATES_DIR
from livepy.protocol import constants as c
from livepy.protocol.snapshot import Snapshotter
from livepy.pusher import PusherApp, PusherApps, PusherServer, pusher_routes
from livepy.render.environment import ComponentRenderer, build_environment
from livepy.secret import resolve_secret_key
from livepy.session import LiveSession
from livepy.transport.connections import ConnectionRegistry
from livepy.transport.http import events_endpoint, metrics_endpoint, update_endpoint
from livepy.transport.shutdown import drain, wrap_lifespan
from livepy.transport.websocket import websocket_endpoint

if TYPE_CHECKING:
    from livepy.monitor import Monitor
    from livepy.testing import ComponentTest

__all__ = ["Limits", "LivePy"]

F = TypeVar("F", bound=Callable[..., Any])

logger = logging.getLogger("livepy")


MetricsAuth = Callable[[Request], bool | Awaitable[bool]]

DEFAULT_MAX_CONNECTIONS = 10_000
DEFAULT_DRAIN_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class Limits:
    """Limits per connection and per process; each refusal carries the code named in the docs.

    ``max_connections`` / ``max_connections_per_ip`` count open WebSockets and SSE streams of
    this process (None: no limit); over them a socket is closed with 4429.
    ``max_http_body_bytes`` bounds one HTTP fallback request (413 above it).
    ``max_pending_pushes`` bounds the broadcast work waiting for one connection; beyond it
    the connection is closed with 4008 (slow consumer) and recovers by reconnecting.
    ``max_whispers_per_second`` bounds a page's whispers; over it each whisper is refused
    with ``whisper_rate_limited`` (the connection stays open).
    ``max_whisper_bytes`` bounds one whisper's data (as JSON, the form pusher-js clients
    receive; Pusher's own limit is 10 KB); above it the whisper is refused with
    ``whisper_refused`` (the connection stays open).
    """

    max_frame_bytes: int = c.DEFAULT_MAX_FRAME_BYTES
    max_calls_per_frame: int = c.DEFAULT_MAX_CALLS_PER_FRAME
    max_components_per_connection: int = c.DEFAULT_MAX_COMPONENTS_PER_CONNECTION
    max_connections: int | None = DEFAULT_MAX_CONNECTIONS
    max_connections_per_ip: int | None = None
    max_http_body_bytes: int = 4 * c.DEFAULT_MAX_FRAME_BYTES
    max_pending_pushes: int = 1000
    max_whispers_per_second: float = c.DEFAULT_MAX_WHISPERS_PER_SECOND
    max_whisper_bytes: int = 10240


class LivePy:
    """Configure livepy once per application.

    ``templates``: directories searched for page and component templates.
    ``secret_key``: signs component snapshots (default: ``$LIVEPY_SECRET_KEY``).
    ``broker``: the broadcasting backend URL (``memory://`` or ``redis://...``; default:
    ``$LIVEPY_BROKER``, else ``memory://``).
    Transport options (heartbeats, draining, metrics, forcing HTTP) are described in
    docs/reference/api.md.
    """

    def __init__(
        self,
        templates: Sequence[str | PathLike[str]] = ("templates",),
        secret_key: str | bytes | None = None,
        *,
        broker: str | None = None,
        debug: bool = False,
        path: str = "/livepy",
        allowed_origins: Collection[str] | None = None,
        snapshot_max_age: int = 7 * 24 * 3600,
        limits: Limits | None = None,
        user_resolver: Callable[[HTTPConnection], Any] | None = None,
        heartbeat_interval: float = c.DEFAULT_HEARTBEAT_INTERVAL,
        send_timeout: float = 10.0,
        heartbeat_timeout: float | None = None,
        drain_seconds: float = DEFAULT_DRAIN_SECONDS,
        websocket: bool | None = None,
        metrics: bool = False,
        metrics_auth: MetricsAuth | str | None = None,
        pusher: PusherApps | Sequence[PusherApp] | None = None,
        monitor: str | None = None,
        monitor_auth: Callable[[Request], bool | Awaitable[bool]] | None = None,
        uploads: UploadSettings | None = None,
    ) -> None:
        if isinstance(templates, str | PathLike):
            templates = [templates]
        self.debug = debug
        self.path = "/" + path.strip("/")
        self.allowed_origins = allowed_origins
        self.limits = limits or Limits()
        broker = broker or os.environ.get("LIVEPY_BROKER") or "memory://"
        self.broker_url = broker
        secret_key = resolve_secret_key(secret_key)
        # For features that sign their own values (flash cookies), each with its own salt.
        self.secret_key = secret_key
        self.snapshots = Snapshotter(secret_key, max_age=snapshot_max_age)
        self.env = build_environment(self, [*templates, TEMPLATES_DIR])
        self.templates = Jinja2Templates(env=self.env)
        self.renderer = ComponentRenderer(self)
        self.broadcaster = Broadcaster(broker)
        self.user_resolver = user_resolver
        self.sessions: set[LiveSession] = set()
        if heartbeat_interval <= 0:
            raise ConfigurationError("heartbeat_interval must be a positive number of seconds")
        self.heartbeat_interval = float(heartbeat_interval)
        # A send that takes longer means the client stopped reading: it is closed with 4008.
        self.send_timeout = float(send_timeout)
        if heartbeat_timeout is None:
            heartbeat_timeout = 2 * self.heartbeat_interval
        if heartbeat_timeout <= self.heartbeat_interval:
            raise ConfigurationError("heartbeat_timeout must be longer than heartbeat_interval")
        self.heartbeat_timeout = float(heartbeat_timeout)
        if drain_seconds < 0:
            raise ConfigurationError("drain_seconds must be >= 0")
        self.drain_seconds = float(drain_seconds)
        if websocket is None:  # LIVEPY_TRANSPORT=http forces the HTTP fallback
            websocket = os.environ.get("LIVEPY_TRANSPORT", "").strip().lower() != "http"
        self.websocket = websocket
        self.connections = ConnectionRegistry(self.limits)
        self.metrics = Metrics(metrics)
        if metrics and metrics_auth is None:
            metrics_auth = os.environ.get("LIVEPY_METRICS_TOKEN") or None
        if metrics and not metrics_auth:
            raise ConfigurationError(
                "LivePy(metrics=True) needs metrics_auth=: a callable (request) -> bool, or a "
                "bearer token (also read from $LIVEPY_METRICS_TOKEN)"
            )
        self.metrics_auth = metrics_auth
        # The Pusher protocol server (docs/howto/pusher.md); also from $LIVEPY_PUSHER_APP_*.
        if pusher is not None and not isinstance(pusher, PusherApps):
            pusher = PusherApps(pusher)
        pusher = pusher or PusherApps.from_env()
        self.pusher = PusherServer(self, pusher) if pusher is not None else None
        # The live monitor page (livepy/monitor), at `monitor` when given.
        self.monitor: Monitor | None = None
        if monitor:
            from livepy.monitor import Monitor

            self.monitor = Monitor(self, monitor, monitor_auth)
        # Temporary file uploads (docs/reference/uploads.md).
        self.uploads = UploadStore(secret_key, uploads)

    def channel(self, pattern: str) -> Callable[[F], F]:
        """``@live.channel("orders.{order_id}")``: who may subscribe to private-/presence-orders.N.

        The callback gets the user and the typed placeholders and returns a bool (private
        channels) or the member info dict with an ``id`` (presence channels).
        """
        return self.broadcaster.channel(pattern)

    async def broadcast(
        self,
        channels_or_event: str | Iterable[str] | BroadcastEvent,
        event: str | None = None,
        data: Any = None,
        *,
        exclude: str | None = None,
    ) -> None:
        """Send an event to every component listening on the channel(s), on every process."""
        await self.broadcaster.broadcast(channels_or_event, event, data, exclude=exclude)

    def broadcast_sync(
        self,
        channels_or_event: str | Iterable[str] | BroadcastEvent,
        event: str | None = None,
        data: Any = None,
        *,
        exclude: str | None = None,
    ) -> None:
        """``broadcast`` for threads other than the server's event loop."""
        self.broadcaster.broadcast_sync(channels_or_event, event, data, exclude=exclude)

    async def notify(self, user_id: Any, event: str, data: Any = None) -> None:
        """Send ``event`` to every connection of one user, on every process.

        It travels on ``private-users.{user_id}``, which each user may always listen on;
        components receive it with ``@on_notification(event)``.
        """
        await self.broadcaster.broadcast(f"private-users.{user_id}", event, data)

    async def resolve_user(self, connection: HTTPConnection) -> Any:
        """The user of a request or socket: ``user_resolver``, else ``scope["user"]``."""
        if self.user_resolver is not None:
            user = self.user_resolver(connection)
            if inspect.isawaitable(user):
                user = await user
            return user
        return connection.scope.get("user")

    def test(self, component: type[Any] | str, **props: Any) -> ComponentTest:
        """Mount ``component`` for a browserless test: ``live.test(Counter).call("increment")``."""
        from livepy.testing import ComponentTest

        return ComponentTest(self, component, **props)

    def routes(self) -> list[Any]:
        """The routes livepy serves: the socket, the HTTP fallback, metrics, the ES modules."""
        routes: list[Any] = [
            WebSocketRoute(self.path + "/ws", partial(websocket_endpoint, self)),
            Route(self.path + "/update", partial(update_endpoint, self), methods=["POST"]),
            Route(self.path + "/events", partial(events_endpoint, self), methods=["GET"]),
        ]
        if self.metrics.enabled:
            routes.append(Route(self.path + "/metrics", partial(metrics_endpoint, self)))
        if self.pusher is not None:
            routes.extend(pusher_routes(self, self.pusher))
        if self.monitor is not None:
            routes.append(self.monitor.route())
        routes.extend(upload_routes(self))
        routes.append(Mount(self.path, app=StaticFiles(directory=JS_DIR), name="livepy-js"))
        return routes

    def install(self, app: ASGIApp) -> None:
        """Add livepy's routes to a Starlette (or FastAPI) app, ahead of the app's own.

        Also wraps the app's lifespan so that a shutdown drains the open connections first
        (see ``drain_seconds``).
        """
        router_routes = getattr(app, "routes", None)
        if router_routes is None:
            raise ConfigurationError("live.install(app) needs a Starlette or FastAPI application")
        for index, route in enumerate(self.routes()):
            router_routes.insert(index, route)
        router = getattr(app, "router", app)
        if hasattr(router, "lifespan_context"):
            wrap_lifespan(self, router)

    async def drain(self, seconds: float | None = None) -> None:
        """Refuse new connections and close the open ones with 1012, spread over ``seconds``.

        ``install()`` calls this on shutdown; call it yourself when you run livepy's routes
        without ``install()`` or under a server whose shutdown livepy does not hook.
        """
        await drain(self, self.drain_seconds if seconds is None else seconds)
