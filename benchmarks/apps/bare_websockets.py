"""Child process for ``benchmarks/pusher.py``: a bare ``websockets`` server, the floor.

Usage (the benchmark starts it)::

    python benchmarks/apps/bare_websockets.py

``websockets.asyncio.server.serve`` on 127.0.0.1 (a port the OS picks; uvloop if installed,
like ``_serve.py``). Like ``_serve.py`` it prints one JSON line (port, pid, versions) and exits
when its parent closes its stdin. Each connection gets the same frames the Pusher endpoint would
send (``connection_established``, then ``subscription_succeeded`` for a subscribe, ``pong`` for a
ping) and is otherwise idle. A connection on ``/control`` that sends ``fire:N`` makes the server
``broadcast()`` N events, byte for byte the frames livepy sends for ``pusher_bench``'s
``/bench/fire``, to every other connection, then answer ``done``.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.metadata
import json
import os
import resource
import socket
import sys
import threading
from typing import Any

HOST = "127.0.0.1"
# The same constants as pusher_bench.py (not imported: that would load livepy into the floor).
CHANNEL, EVENT = "bench", "Tick"
PAD = "x" * 64


def event_data(i: int) -> dict[str, object]:
    return {"i": i, "pad": PAD}


def event_frame(i: int) -> str:
    """What livepy's PusherServer.deliver sends for ``live.broadcast(CHANNEL, EVENT, data)``."""
    frame = {"event": EVENT, "channel": CHANNEL, "data": json.dumps(event_data(i))}
    return json.dumps(frame, separators=(",", ":"))


ESTABLISHED = json.dumps(
    {
        "event": "pusher:connection_established",
        "data": json.dumps({"socket_id": "1.1", "activity_timeout": 120}),
    },
    separators=(",", ":"),
)
PONG = '{"event":"pusher:pong"}'


def subscription_succeeded(channel: str) -> str:
    frame = {"event": "pusher_internal:subscription_succeeded", "channel": channel, "data": "{}"}
    return json.dumps(frame, separators=(",", ":"))


def answer(message: str | bytes) -> str | None:
    """The reply to a client frame: subscribe and ping are answered, the rest ignored."""
    frame = json.loads(message)
    if frame.get("event") == "pusher:subscribe":
        return subscription_succeeded(frame["data"]["channel"])
    if frame.get("event") == "pusher:ping":
        return PONG
    return None


async def serve(sock: socket.socket) -> None:
    from websockets.asyncio.server import ServerConnection, broadcast
    from websockets.asyncio.server import serve as ws_serve

    clients: set[ServerConnection] = set()

    async def handler(ws: ServerConnection) -> None:
        if ws.request is not None and ws.request.path == "/control":
            async for message in ws:
                n = int(str(message).removeprefix("fire:"))
                for i in range(n):
                    broadcast(clients, event_frame(i))
                await ws.send("done")
            return
        clients.add(ws)
        try:
            await ws.send(ESTABLISHED)
            async for message in ws:
                reply = answer(message)
                if reply is not None:
                    await ws.send(reply)
        finally:
            clients.discard(ws)

    async with ws_serve(
        handler, sock=sock, compression=None, ping_interval=None, max_size=2**20
    ) as server:
        await server.serve_forever()


def _exit_when_parent_goes() -> None:
    with contextlib.suppress(Exception):
        sys.stdin.buffer.read()
    os._exit(0)


def main() -> None:
    threading.Thread(target=_exit_when_parent_goes, daemon=True).start()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, 0))
    sock.listen(4096)
    try:
        import uvloop

        loop = "uvloop"
    except ImportError:
        uvloop = None
        loop = "asyncio"
    info: dict[str, Any] = {
        "port": sock.getsockname()[1],
        "pid": os.getpid(),
        "python": sys.version.split()[0],
        "websockets": importlib.metadata.version("websockets"),
        "settings": {"ws": "websockets.asyncio.server", "loop": loop},
    }
    print(json.dumps(info), flush=True)
    os.dup2(2, 1)
    if uvloop is not None:
        uvloop.run(serve(sock))
    else:
        asyncio.run(serve(sock))


if __name__ == "__main__":
    main()
