"""A counter: the smallest livepy app. Run: uvicorn examples.counter.app:app --reload"""

from __future__ import annotations

import asyncio
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from livepy import Component, LivePy, action

live = LivePy(templates=[Path(__file__).parent / "templates"])


class Counter(Component):
    template = "counter.html"
    count: int = 0

    def mount(self, start: int = 0) -> None:
        self.count = start

    @action
    def increment(self, by: int = 1) -> None:
        self.count += by

    @action
    def decrement(self) -> None:
        self.count -= 1

    @action
    async def increment_slowly(self) -> None:
        await asyncio.sleep(0.4)  # stands in for a slow database write
        self.count += 1


async def home(request: Request) -> Response:
    return live.templates.TemplateResponse(request, "home.html")


app = Starlette(routes=[Route("/", home)])
live.install(app)
