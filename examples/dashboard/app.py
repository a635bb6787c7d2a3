"""A live dashboard: numbers pushed from a background task to every open tab.

Run: uvicorn examples.dashboard.app:app
Open two tabs; both update together. Placing an order in one tab updates the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from livepy import Component, LivePy, action, on

live = LivePy(templates=[Path(__file__).parent / "templates"])

STATS = {"visitors": 120, "orders": 7}
_ticker: asyncio.Task[None] | None = None


async def tick(interval: float = 1.0) -> None:
    """Stands in for real metrics: every second the numbers move and every tab hears it."""
    while True:
        await asyncio.sleep(interval)
        STATS["visitors"] = max(0, STATS["visitors"] + random.randint(-3, 5))
        with contextlib.suppress(Exception):  # a broker hiccup must not stop the ticker
            await live.broadcast("dashboard", "Stats", dict(STATS))


def ensure_ticker() -> None:
    global _ticker
    if _ticker is None or _ticker.done():
        _ticker = asyncio.get_running_loop().create_task(tick())


class Dashboard(Component):
    template = "dashboard.html"
    visitors: int = 0
    orders: int = 0

    def mount(self) -> None:
        self.visitors, self.orders = STATS["visitors"], STATS["orders"]

    @on("dashboard", "Stats")
    def update(self, stats: dict[str, Any]) -> None:
        self.visitors, self.orders = stats["visitors"], stats["orders"]

    @action
    def place_order(self) -> None:
        STATS["orders"] += 1
        self.orders = STATS["orders"]
        self.broadcast("dashboard", "Stats", dict(STATS)).to_others()


async def home(request: Request) -> Response:
    ensure_ticker()
    return live.templates.TemplateResponse(request, "home.html")


app = Starlette(routes=[Route("/", home)])
live.install(app)
