"""A live monitor of livepy, built with livepy: connections, messages per second, channels.

Run: uvicorn examples.monitor.app:app
Open / in a few tabs and click around, then open /livepy/monitor: its figures follow in
real time. The monitor is a feature of livepy (``LivePy(monitor=..., monitor_auth=...)``);
this example only switches it on, and gives the monitor something to watch.

``monitor_auth`` decides who may see the monitor. Here: requests from this machine only. In an
app with logins, check the user instead (``request.user.is_staff``, say).
"""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from livepy import Component, LivePy, action, on


def local_only(request: Request) -> bool:
    return request.client is not None and request.client.host in ("127.0.0.1", "::1")


live = LivePy(
    templates=[Path(__file__).parent / "templates"],
    monitor="/livepy/monitor",
    monitor_auth=local_only,
)


class Pinger(Component):
    """Something to watch: every click is a broadcast that every open tab hears."""

    template = "pinger.html"
    pings: int = 0

    @on("monitor-demo", "Ping")
    def pinged(self, data: dict[str, int]) -> None:
        self.pings = data["pings"]

    @action
    def ping(self) -> None:
        self.broadcast("monitor-demo", "Ping", {"pings": self.pings + 1})


async def home(request: Request) -> Response:
    return live.templates.TemplateResponse(request, "home.html")


app = Starlette(routes=[Route("/", home)])
live.install(app)
