"""The same frames as ``bare_websockets.py``, on uvicorn + Starlette, for ``benchmarks/pusher.py``.

Serve: ``PYTHONPATH=benchmarks/apps uvicorn starlette_pusher_floor:app`` (the benchmark starts
it under ``_serve.py``, with the same uvicorn settings as livepy). It separates what the ASGI
stack costs (uvicorn's WebSocket protocol, Starlette's ``WebSocket``, one task per connection)
from what livepy's Pusher layer adds on top. ``/app/{key}`` answers subscribe and ping like
``bare_websockets.py``; ``POST /bench/fire?n=N`` sends the N event frames to every subscribed
socket with ``await websocket.send_text``, one socket after the other, as livepy does.
"""

from __future__ import annotations

import contextlib

from bare_websockets import ESTABLISHED, answer, event_frame
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

clients: set[WebSocket] = set()


async def pusher_socket(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_text(ESTABLISHED)
    clients.add(websocket)
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            reply = answer(message.get("text") or message.get("bytes") or b"{}")
            if reply is not None:
                await websocket.send_text(reply)
    except (WebSocketDisconnect, OSError):
        pass
    finally:
        clients.discard(websocket)


async def fire(request: Request) -> Response:
    n = max(1, min(int(request.query_params.get("n", "1")), 1000))
    for i in range(n):
        text = event_frame(i)
        for websocket in list(clients):
            with contextlib.suppress(OSError, RuntimeError, WebSocketDisconnect):
                await websocket.send_text(text)
    return PlainTextResponse(str(n))


app = Starlette(
    routes=[
        WebSocketRoute("/app/{key}", pusher_socket),
        Route("/bench/fire", fire, methods=["POST"]),
    ]
)
