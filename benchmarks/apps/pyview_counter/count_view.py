"""Per-connection counter LiveView (pyview-web 0.9.0)."""

from typing import TypedDict

from pyview import LiveView, LiveViewSocket, is_connected


class CountContext(TypedDict):
    count: int


class CountLiveView(LiveView[CountContext]):
    async def mount(self, socket: LiveViewSocket[CountContext], session):
        socket.context = {"count": 0}

    async def handle_event(self, event, payload, socket: LiveViewSocket[CountContext]):
        if event == "increment":
            socket.context["count"] += 1
        elif event == "decrement":
            socket.context["count"] -= 1


# Shared counter: every click is broadcast to all subscribed LiveViews
# (pyview's in-process pub/sub; use it to benchmark fan-out).
SHARED = {"count": 0}


class SharedCountLiveView(LiveView[CountContext]):
    async def mount(self, socket: LiveViewSocket[CountContext], session):
        socket.context = {"count": SHARED["count"]}
        if is_connected(socket):
            await socket.subscribe("shared_count")

    async def handle_event(self, event, payload, socket):
        SHARED["count"] += 1 if event == "increment" else -1
        socket.context["count"] = SHARED["count"]
        await socket.broadcast("shared_count", SHARED["count"])

    async def handle_info(self, event, socket):
        socket.context["count"] = event.payload
