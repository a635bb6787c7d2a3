"""A log feed built on a stream: entries are sent once and never kept on the server.

Run: uvicorn examples.feed.app:app --reload
"""

from __future__ import annotations

import datetime
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from livepy import Component, LivePy, action

live = LivePy(templates=[Path(__file__).parent / "templates"])

LIMIT = 50  # the browser keeps at most this many entries


def entry(entry_id: int, text: str, level: str = "info") -> dict[str, object]:
    when = datetime.datetime.now().strftime("%H:%M:%S")
    return {"id": entry_id, "text": text, "level": level, "when": when}


class LogFeed(Component):
    template = "log_feed.html"
    draft: str = ""
    next_id: int = 1
    total: int = 0  # how many entries were ever sent: the only trace the server keeps

    def mount(self) -> None:
        self.stream("entries", [entry(0, "feed started")], limit=LIMIT)

    def _new(self, level: str) -> dict[str, object]:
        text = self.draft.strip() or f"event #{self.next_id}"
        item = entry(self.next_id, text, level)
        self.next_id += 1
        self.total += 1
        self.draft = ""
        return item

    @action
    def append(self) -> None:
        self.stream("entries", [self._new("info")], limit=LIMIT)

    @action
    def prepend(self) -> None:
        self.stream("entries", [self._new("pinned")], at="start", limit=LIMIT)

    @action
    def remove(self, entry_id: int) -> None:
        self.stream_remove("entries", entry_id)

    @action
    def clear(self) -> None:
        self.stream_reset("entries")


async def home(request: Request) -> Response:
    return live.templates.TemplateResponse(request, "home.html")


app = Starlette(routes=[Route("/", home)])
live.install(app)
