"""A live chart drawn by a client hook: the server owns the numbers, the browser draws them.

Run: uvicorn examples.chart.app:app

The chart is plain SVG drawn by the ``Chart`` hook (``lp-hook="Chart"`` in chart.html, the
hook itself in home.html). The server sends every new series to the hook with
``self.push_event("points", ...)``; a click on the chart calls ``add_point`` through the
hook's ``pushEvent``. With "live" ticked, ``lp-poll`` adds a point every second.
"""

from __future__ import annotations

import math
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from livepy import Component, LivePy, action

live = LivePy(templates=[Path(__file__).parent / "templates"])

MAX_POINTS = 30


class Chart(Component):
    template = "chart.html"
    points: list[float] = []
    step: int = 0
    polling: bool = False  # poll for a new point every second
    show: bool = True

    def mount(self) -> None:
        for _ in range(8):
            self._append(self._next_value())

    def _next_value(self) -> float:
        # A wave stands in for a real metric, so that a test can predict it.
        self.step += 1
        return round(50 + 40 * math.sin(self.step / 2), 1)

    def _append(self, value: float) -> None:
        self.points = [*self.points, min(100.0, max(0.0, value))][-MAX_POINTS:]
        self.push_event("points", self.points)

    @action
    def tick(self) -> None:
        self._append(self._next_value())

    @action
    def add_point(self, value: float) -> None:
        self._append(value)

    @action
    def clear(self) -> None:
        self.points = []
        self.push_event("points", self.points)

    @action
    def toggle_chart(self) -> None:
        self.show = not self.show


async def home(request: Request) -> Response:
    return live.templates.TemplateResponse(request, "home.html")


app = Starlette(routes=[Route("/", home)])
live.install(app)
