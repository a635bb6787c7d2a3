"""In real Chromium: an event triggered through the Pusher HTTP API re-renders a component."""

from __future__ import annotations

import asyncio
from typing import Any

import pusher
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from livepy import Component, LivePy, on
from livepy.pusher import PusherApp
from tests.conftest import ServeFactory

pytestmark = pytest.mark.browser

APP_ID, KEY, SECRET = "4242", "browser-key", "browser-secret"


class ShipmentBanner(Component):
    template_source = "<div class='shipment'>{{ status }}</div>"
    status: str = "waiting for the warehouse"

    @on("shipments", "Shipped")
    def shipped(self, data: dict[str, Any]) -> None:
        self.status = f"shipped with {data['carrier']}"


async def test_pusher_sdk_trigger_rerenders_the_page(serve: ServeFactory, page: Any) -> None:
    live = LivePy(templates=[], secret_key="k", pusher=[PusherApp(APP_ID, KEY, SECRET)])
    layout = live.env.from_string(
        "<html><head>{{ livepy_scripts() }}</head>"
        "<body>{{ livepy('shipment_banner') }}</body></html>"
    )

    async def home(request: Request) -> Response:
        return Response(layout.render(request=request), media_type="text/html")

    app = Starlette(routes=[Route("/", home)])
    live.install(app)
    server = await serve(app)
    await page.goto(server.url + "/")
    await page.wait_for_function(
        "window.livepy && [...window.livepy.components.values()].every((c) => c.joined)"
    )
    client = pusher.Pusher(
        app_id=APP_ID, key=KEY, secret=SECRET, host="127.0.0.1", port=server.port, ssl=False
    )
    await asyncio.to_thread(client.trigger, "shipments", "Shipped", {"carrier": "DHL"})
    await page.wait_for_function(
        "document.querySelector('.shipment').textContent === 'shipped with DHL'"
    )
