"""200-item list LiveView (pyview-web 0.9.0): ``append`` adds one item, as in livepy_bench.py."""

from typing import Any, TypedDict

from pyview import LiveView, LiveViewSocket
from table_view import FIRST, LAST, ROWS


def make_item(n: int) -> dict[str, Any]:
    author = f"{FIRST[n % len(FIRST)]} {LAST[n % len(LAST)]}"
    return {"id": n, "title": f"Item number {n}", "author": author}


class ListContext(TypedDict):
    items: list[dict[str, Any]]
    next_id: int


class ListLiveView(LiveView[ListContext]):
    async def mount(self, socket: LiveViewSocket[ListContext], session):
        socket.context = {"items": [make_item(n) for n in range(1, ROWS + 1)], "next_id": ROWS + 1}

    async def handle_event(self, event, payload, socket: LiveViewSocket[ListContext]):
        if event == "append":
            n = socket.context["next_id"]
            socket.context["items"].append(make_item(n))
            socket.context["next_id"] = n + 1
