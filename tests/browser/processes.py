"""Real server processes for the recovery tests: uvicorn subprocesses serving the examples, and a
tiny TCP proxy that a test can re-point from one process to another."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import time
from pathlib import Path

import httpx

# The counter and todos examples under /counter and /todos, as in `livepy demo`.
SERVER_SCRIPT = """
import sys
import uvicorn
from starlette.applications import Starlette
from starlette.routing import Mount
from livepy.demo import load_example

app = Starlette(routes=[
    Mount("/counter", app=load_example("counter").app),
    Mount("/todos", app=load_example("todos").app),
])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning",
            ws="websockets-sansio", lifespan="on")
"""
SECRET_KEY = "recovery-test-key-shared-by-every-process"
START_S = 20.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    """`python -c SERVER_SCRIPT <port>` with a fixed LIVEPY_SECRET_KEY; start, kill, stop."""

    def __init__(self, port: int, log: Path) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log = log
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> ServerProcess:
        env = {**os.environ, "LIVEPY_SECRET_KEY": SECRET_KEY, "PYTHONUNBUFFERED": "1"}
        with self.log.open("ab") as log:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-c", SERVER_SCRIPT, str(self.port),
                stdout=log, stderr=log, env=env,
            )  # fmt: skip
        deadline = time.monotonic() + START_S
        async with httpx.AsyncClient() as client:
            while True:
                if self.proc.returncode is not None:
                    raise AssertionError(f"server exited early:\n{self.log.read_text()}")
                with contextlib.suppress(httpx.TransportError):
                    if (await client.get(self.url + "/counter/")).status_code == 200:
                        return self
                if time.monotonic() > deadline:
                    raise AssertionError(f"server did not start:\n{self.log.read_text()}")
                await asyncio.sleep(0.05)  # polling the readiness condition

    async def signal(self, signum: int) -> None:
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.send_signal(signum)

    async def kill(self) -> None:
        """SIGKILL: no drain, no goodbye; the kernel resets the sockets."""
        await self.signal(signal.SIGKILL)
        await self.wait()

    async def wait(self, within: float = 15.0) -> int:
        assert self.proc is not None
        async with asyncio.timeout(within):
            return await self.proc.wait()

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            await self.kill()


class TcpProxy:
    """Forwards every TCP connection to `target`; `point_to()` moves new connections elsewhere
    and, with `drop=True`, cuts the ones in progress."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.port = 0
        self.url = ""
        self.server: asyncio.Server | None = None
        self.pipes: set[asyncio.Task[None]] = set()
        self.writers: set[asyncio.StreamWriter] = set()
        self.connections = 0

    async def start(self) -> TcpProxy:
        self.server = await asyncio.start_server(self.handle, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        return self

    def point_to(self, target: int, *, drop: bool = False) -> None:
        self.target = target
        if drop:
            for writer in list(self.writers):
                writer.close()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target)
        except OSError:
            writer.close()
            return
        self.writers.update((writer, up_writer))
        task = asyncio.current_task()
        assert task is not None
        self.pipes.add(task)
        try:
            await asyncio.gather(self.pipe(reader, up_writer), self.pipe(up_reader, writer))
        finally:
            self.pipes.discard(task)
            for w in (writer, up_writer):
                self.writers.discard(w)
                w.close()
                with contextlib.suppress(OSError, ConnectionError):
                    await w.wait_closed()

    async def pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (OSError, ConnectionError):
            pass
        finally:
            # one direction ended: end the other too, as a real proxy would
            writer.close()

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            for writer in list(self.writers):
                writer.close()
            await self.server.wait_closed()
            if self.pipes:
                await asyncio.wait(self.pipes, timeout=5)
