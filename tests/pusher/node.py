"""Real pusher-js / Laravel Echo clients under Node, driven line by line from pytest."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.conftest import LiveServer, require_real

HERE = Path(__file__).parent
KEY, SECRET, APP_ID = "app-key", "app-secret", "1"
TIMEOUT = 10.0

Match = Callable[[dict[str, Any]], bool]


def need_node() -> None:
    if shutil.which("node") is None:
        require_real("node")
    if not (HERE / "node_modules" / "pusher-js").is_dir():
        require_real("tests/pusher/node_modules (run `npm ci` in tests/pusher)")


class NodeClient:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.seen: list[dict[str, Any]] = []

    @classmethod
    async def start(cls, script: str, *args: str) -> NodeClient:
        need_node()
        process = await asyncio.create_subprocess_exec(
            "node",
            str(HERE / script),
            *args,
            cwd=HERE,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        return cls(process)

    @classmethod
    async def echo(cls, server: LiveServer, user: str | None = None, key: str = KEY) -> NodeClient:
        args = ["127.0.0.1", str(server.port), key, server.url + "/broadcasting/auth"]
        client = await cls.start("echo_client.mjs", *args, *([user] if user else []))
        await client.expect(lambda m: m["type"] == "connected")
        return client

    async def send(self, **command: Any) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write((json.dumps(command) + "\n").encode())
        await self.process.stdin.drain()

    async def expect(self, match: Match) -> dict[str, Any]:
        """The first message (seen before or arriving now) that matches."""
        for message in self.seen:
            if match(message):
                self.seen.remove(message)
                return message
        assert self.process.stdout is not None
        async with asyncio.timeout(TIMEOUT):
            while True:
                line = await self.process.stdout.readline()
                if not line:
                    err = await self.process.stderr.read() if self.process.stderr else b""
                    raise AssertionError(f"node exited: {err.decode()[-2000:]}; seen {self.seen}")
                message = json.loads(line)
                if match(message):
                    return message
                self.seen.append(message)

    async def close(self) -> None:
        if self.process.returncode is None:
            if self.process.stdin is not None:
                self.process.stdin.close()
            try:
                async with asyncio.timeout(5):
                    await self.process.wait()
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
