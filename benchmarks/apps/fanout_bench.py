"""A livepy app for ``benchmarks/fanout.py``: components that listen on one channel.

Serve: ``PYTHONPATH=.:benchmarks/apps uvicorn fanout_bench:app`` (the benchmark starts it; the
broker comes from ``$LIVEPY_BROKER``, and ``$LIVEPY_BENCH_SLICE``, when set, replaces the push
batch's ``SLICE``: ``fanout.py --slice-ab``).

- ``GET /bench/joins?mode=shared|user&conns=N&k=K&first=F`` answers (msgpack) N lists of K
  ``[cid, snapshot]`` pairs: what N pages would JOIN. In ``shared`` mode every component has the
  same state (a dashboard everyone sees: render once per event); in ``user`` mode each has its own
  ``owner`` (per-user state: render each).
- ``POST /bench/fire?n=N`` broadcasts N ``Stats`` events on the public channel ``fanout``.
- ``WS /bench/control``: each ``fire:N`` message does the same and is answered ``done``: the
  benchmark's trigger, a message on a socket already open, as the bare floor's is.
"""

from __future__ import annotations

import contextlib
import itertools
import os
from typing import Any

import msgpack
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from livepy import Component, Limits, LivePy, on, pushbatch
from livepy.render.environment import new_component_id

CHANNEL, EVENT = "fanout", "Stats"
if "LIVEPY_BENCH_SLICE" in os.environ:  # fanout.py --slice-ab: another push batch slice
    pushbatch.SLICE = float(os.environ["LIVEPY_BENCH_SLICE"])

live = LivePy(templates=[], limits=Limits(max_connections=None, max_pending_pushes=10_000))
_counter = itertools.count(1)


class FanoutTile(Component):
    """A small dashboard tile: a heading, two figures and a ten-row table."""

    template_source = (
        '<div class="tile"><h3>{{ owner }}</h3>'
        "<p>visitors <b>{{ visitors }}</b>, orders <b>{{ orders }}</b></p>"
        "<ul>{% for i in range(10) %}<li>row {{ i }}: {{ visitors * i }}</li>{% endfor %}</ul>"
        "</div>"
    )
    owner: str = "everyone"
    visitors: int = 0
    orders: int = 0

    @on(CHANNEL, EVENT)
    def stats(self, event: dict[str, Any]) -> None:
        self.visitors, self.orders = event["visitors"], event["orders"]


def _join(owner: str) -> list[Any]:
    cid = new_component_id()
    state = {"owner": owner, "visitors": 0, "orders": 0}
    return [cid, live.snapshots.sign(FanoutTile.name, cid, state).to_wire()]


async def joins(request: Request) -> Response:
    mode = request.query_params.get("mode", "shared")
    conns = int(request.query_params.get("conns", "1"))
    k = int(request.query_params.get("k", "5"))
    first = int(request.query_params.get("first", "0"))
    pages = [
        [_join("everyone" if mode == "shared" else f"user{first + c}.{j}") for j in range(k)]
        for c in range(conns)
    ]
    return Response(msgpack.packb(pages, use_bin_type=True), media_type="application/msgpack")


async def broadcast_stats(n: int) -> int:
    n = max(1, min(n, 1000))
    for _ in range(n):
        value = next(_counter)
        await live.broadcast(CHANNEL, EVENT, {"visitors": value, "orders": value // 3})
    return n


async def fire(request: Request) -> Response:
    n = await broadcast_stats(int(request.query_params.get("n", "1")))
    return PlainTextResponse(str(n))


async def control(websocket: WebSocket) -> None:
    await websocket.accept()
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            message = await websocket.receive_text()
            await broadcast_stats(int(message.removeprefix("fire:")))
            await websocket.send_text("done")


app = Starlette(
    routes=[
        Route("/bench/joins", joins, methods=["GET"]),
        Route("/bench/fire", fire, methods=["POST"]),
        WebSocketRoute("/bench/control", control),
    ]
)
live.install(app)
