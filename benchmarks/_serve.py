"""Child process for the benchmarks: serve one ASGI app with uvicorn on 127.0.0.1.

Usage (the benchmarks start it; it is not meant to be run by hand)::

    python benchmarks/_serve.py MODULE:ATTR     # e.g. examples.counter.app:app
    python benchmarks/_serve.py echo:N          # bare Starlette WebSocket echo, N-byte replies

It needs only uvicorn (and starlette for ``echo``), so every venv (livepy's and the peers')
runs the same launcher with the same uvicorn settings. It binds a port the OS picks, prints
one JSON line (port, pid, versions, settings) on stdout, then serves until it is terminated
or until its parent closes its stdin (so it never outlives the benchmark that started it).
"""

from __future__ import annotations

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


def _have(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def uvicorn_settings() -> dict[str, Any]:
    """Identical uvicorn settings for every server; loop and http pinned, not "auto"."""
    return {
        # BENCH_UVICORN_WS=auto reproduces uvicorn's default (the legacy websockets protocol).
        "ws": os.environ.get("BENCH_UVICORN_WS", "websockets-sansio"),
        "loop": "uvloop" if _have("uvloop") else "asyncio",
        "http": "httptools" if _have("httptools") else "h11",
        "log_level": "warning",
        "access_log": False,
        "lifespan": "auto",
        "timeout_graceful_shutdown": 2,
        "ws_ping_interval": None,  # no server pings during measurements
        "backlog": 4096,  # memory.py opens many connections at once
    }


def echo_app(reply_bytes: int) -> Any:
    from starlette.applications import Starlette
    from starlette.routing import WebSocketRoute
    from starlette.websockets import WebSocket

    payload = bytes(i % 251 for i in range(reply_bytes))

    async def echo(websocket: WebSocket) -> None:
        # The same receive loop as livepy's transport pump, minus the session.
        await websocket.accept()
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            await websocket.send_bytes(payload)

    return Starlette(routes=[WebSocketRoute("/ws", echo)])


def _exit_when_parent_goes() -> None:
    """The parent holds our stdin open; EOF means it is gone, so never outlive it."""
    with contextlib.suppress(Exception):
        sys.stdin.buffer.read()
    os._exit(0)


def _tracemalloc_on_signal(prefix: str) -> None:
    """BENCH_TRACEMALLOC=PREFIX: trace allocations; each SIGUSR1 dumps PREFIX.N.snapshot."""
    import signal
    import tracemalloc

    tracemalloc.start(8)
    count = [0]

    def dump(signum: int, frame: Any) -> None:
        tracemalloc.take_snapshot().dump(f"{prefix}.{count[0]}.snapshot")
        count[0] += 1

    signal.signal(signal.SIGUSR1, dump)


def main() -> None:
    spec = sys.argv[1]
    if os.environ.get("BENCH_TRACEMALLOC"):
        _tracemalloc_on_signal(os.environ["BENCH_TRACEMALLOC"])
    threading.Thread(target=_exit_when_parent_goes, daemon=True).start()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    sys.path.insert(0, os.getcwd())

    import uvicorn
    from uvicorn.importer import import_from_string

    if spec.startswith("echo:"):
        app = echo_app(int(spec.removeprefix("echo:")))
    else:
        app = import_from_string(spec)
    settings = uvicorn_settings()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, 0))
    info = {
        "port": sock.getsockname()[1],
        "pid": os.getpid(),
        "python": sys.version.split()[0],
        "uvicorn": importlib.metadata.version("uvicorn"),
        "websockets": importlib.metadata.version("websockets") if _have("websockets") else None,
        "settings": {k: settings[k] for k in ("ws", "loop", "http")},
    }
    print(json.dumps(info), flush=True)
    os.dup2(2, 1)  # nothing else goes down the pipe the parent stopped reading
    config = uvicorn.Config(app, host=HOST, port=info["port"], **settings)
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
