"""A livepy app with one Pusher app, for ``benchmarks/pusher.py``.

Serve: ``PYTHONPATH=.:benchmarks/apps uvicorn pusher_bench:app`` (the benchmark starts it).
Pusher endpoint ``/app/bench-key``; ``POST /bench/fire?n=N`` broadcasts N ``Tick`` events on the
public channel ``bench`` with ``await live.broadcast`` and answers once they are sent.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from livepy import LivePy
from livepy.pusher import PusherApp

APP_ID, KEY, SECRET = "1", "bench-key", "bench-secret"
CHANNEL, EVENT = "bench", "Tick"
PAD = "x" * 64  # a small payload, as a typical app event

live = LivePy(pusher=[PusherApp(APP_ID, KEY, SECRET, activity_timeout=120)])


def event_data(i: int) -> dict[str, object]:
    return {"i": i, "pad": PAD}


async def fire(request: Request) -> Response:
    n = max(1, min(int(request.query_params.get("n", "1")), 1000))
    for i in range(n):
        await live.broadcast(CHANNEL, EVENT, event_data(i))
    return PlainTextResponse(str(n))


app = Starlette(routes=[Route("/bench/fire", fire, methods=["POST"])])
live.install(app)
