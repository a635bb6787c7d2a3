"""Child process for ``benchmarks/fanout.py``: a bare ``websockets`` server, the floor.

Usage (the benchmark starts it)::

    python benchmarks/apps/bare_fanout.py

Like ``bare_websockets.py`` (same launcher contract: one JSON line with the port, exit when the
parent closes stdin), but binary: each connection is idle until a ``/control`` connection sends
``fire:N:K:SIZE``; the server then ``broadcast()``s N*K frames of SIZE bytes (the size livepy's
pushed REPLY frames had) to every other connection, as livepy sends K frames per event to a page
with K components, and answers ``done``.
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


def frame(size: int) -> bytes:
    """A msgpack-looking REPLY of ``size`` bytes: [3, ...] padding (clients count type 3)."""
    return b"\x95\x03" + b"x" * max(0, size - 2)


async def serve(sock: socket.socket) -> None:
    from websockets.asyncio.server import ServerConnection, broadcast
    from websockets.asyncio.server import serve as ws_serve

    clients: set[ServerConnection] = set()

    async def handler(ws: ServerConnection) -> None:
        if ws.request is not None and ws.request.path == "/control":
            async for message in ws:
                n, k, size = (int(x) for x in str(message).removeprefix("fire:").split(":"))
                data = frame(size)
                for _ in range(n * k):
                    broadcast(clients, data)
                await ws.send("done")
            return
        clients.add(ws)
        try:
            async for _message in ws:
                pass
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
