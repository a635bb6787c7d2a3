"""LivePy: the object an application creates. It owns configuration, templates and routes."""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from functools import partial
from os import PathLike
from typing import TYPE_CHECKING, Any

from starlette.routing import Mount, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp

from livepy.exceptions import ConfigurationError
from livepy.paths import JS_DIR, TEMPLATES_DIR
from livepy.protocol import constants as c
from livepy.protocol.snapshot import Snapshotter
from livepy.render.environment import ComponentRenderer, build_environment
from livepy.secret import resolve_secret_key
from livepy.session import LiveSession
from livepy.transport.websocket import websocket_endpoint

if TYPE_CHECKING:
    from livepy.testing import ComponentTest

__all__ = ["Limits", "LivePy"]

logger = logging.getLogger("livepy")


@dataclass(frozen=True, slots=True)
class Limits:
    """Per-connection limits; each refusal carries the error code named in the docs."""

    max_frame_bytes: int = c.DEFAULT_MAX_FRAME_BYTES
    max_calls_per_frame: int = c.DEFAULT_MAX_CALLS_PER_FRAME
    max_components_per_connection: int = c.DEFAULT_MAX_COMPONENTS_PER_CONNECTION


class LivePy:
    """Configure livepy once per application.

    ``templates``: directories searched for page and component templates.
    ``secret_key``: signs component snapshots (default: ``$LIVEPY_SECRET_KEY``).
    ``broker``: the broadcasting backend URL (``memory://`` or ``redis://...``).
    """

    def __init__(
        self,
        templates: Sequence[str | PathLike[str]] = ("templates",),
        secret_key: str | bytes | None = None,
        *,
        broker: str = "memory://",
        debug: bool = False,
        path: str = "/livepy",
        allowed_origins: Collection[str] | None = None,
        snapshot_max_age: int = 7 * 24 * 3600,
        limits: Limits | None = None,
    ) -> None:
        if isinstance(templates, str | PathLike):
            templates = [templates]
        self.debug = debug
        self.path = "/" + path.strip("/")
        self.allowed_origins = allowed_origins
        self.limits = limits or Limits()
        self.broker_url = broker
        secret_key = resolve_secret_key(secret_key)
        self.snapshots = Snapshotter(secret_key, max_age=snapshot_max_age)
        self.env = build_environment(self, [*templates, TEMPLATES_DIR])
        self.templates = Jinja2Templates(env=self.env)
        self.renderer = ComponentRenderer(self)
        self.sessions: set[LiveSession] = set()

    def test(self, component: type[Any] | str, **props: Any) -> ComponentTest:
        """Mount ``component`` for a browserless test: ``live.test(Counter).call("increment")``."""
        from livepy.testing import ComponentTest

        return ComponentTest(self, component, **props)

    def routes(self) -> list[Any]:
        """The routes livepy serves: the socket and the runtime's ES modules."""
        return [
            WebSocketRoute(self.path + "/ws", partial(websocket_endpoint, self)),
            Mount(self.path, app=StaticFiles(directory=JS_DIR), name="livepy-js"),
        ]

    def install(self, app: ASGIApp) -> None:
        """Add livepy's routes to a Starlette (or FastAPI) app, ahead of the app's own."""
        router_routes = getattr(app, "routes", None)
        if router_routes is None:
            raise ConfigurationError("live.install(app) needs a Starlette or FastAPI application")
        for index, route in enumerate(self.routes()):
            router_routes.insert(index, route)
