"""One pusher-js socket: its socket_id, its channels, its presence view, serialized sends."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from typing import Any, Protocol

from starlette.websockets import WebSocketDisconnect

from livepy.pusher.config import PusherApp

__all__ = ["PusherConnection", "Wire", "new_socket_id"]


class Wire(Protocol):
    """Where a connection's frames go: Starlette's ``WebSocket``, or the lean protocol."""

    async def send_text(self, data: str) -> None: ...

    async def close(self, code: int = 1000, reason: str | None = None) -> None: ...


def new_socket_id() -> str:
    """``\\d+\\.\\d+``, the shape the Pusher SDKs validate for exclusions."""
    return f"{random.randint(1, 10**9)}.{random.randint(1, 10**9)}"


class PusherConnection:
    # Slots: thousands of these sit idle per process; the dicts stay empty on most sockets.
    __slots__ = (
        "_allowance",
        "_allowance_at",
        "_lock",
        "app",
        "channels",
        "closed",
        "last_received",
        "pinged",
        "presence_keys",
        "presence_view",
        "socket_id",
        "user_id",
        "websocket",
    )

    def __init__(self, app: PusherApp, websocket: Wire) -> None:
        self.app = app
        self.websocket = websocket
        self.socket_id = new_socket_id()
        self.channels: set[str] = set()
        # presence channel -> (our key in the shared member list, the user id we joined as)
        self.presence_keys: dict[str, tuple[str, str]] = {}
        # presence channel -> user id -> user info, as this socket was last told
        self.presence_view: dict[str, dict[str, Any]] = {}
        self.last_received = time.monotonic()
        self.pinged = False  # the heartbeat sweep sent pusher:ping and awaits any frame
        self.user_id: str | None = None  # set by pusher:signin
        self.closed = False
        self._lock = asyncio.Lock()
        self._allowance = app.client_event_rate
        self._allowance_at = time.monotonic()

    async def send(self, event: str, data: Any = None, channel: str | None = None) -> None:
        frame: dict[str, Any] = {"event": event}
        if channel is not None:
            frame["channel"] = channel
        if data is not None:
            frame["data"] = data
        await self.send_text(json.dumps(frame, separators=(",", ":")))

    async def send_text(self, text: str) -> None:
        async with self._lock:
            if self.closed:
                return
            with contextlib.suppress(OSError, RuntimeError, WebSocketDisconnect):
                await self.websocket.send_text(text)

    async def error(self, code: int, message: str, *, close: bool = False) -> None:
        await self.send("pusher:error", json.dumps({"code": code, "message": message}))
        if close:
            await self.close(code, message)

    async def close(self, code: int, reason: str = "") -> None:
        async with self._lock:
            if self.closed:
                return
            self.closed = True
            with contextlib.suppress(OSError, RuntimeError, WebSocketDisconnect):
                await self.websocket.close(code, reason)

    def take_client_event(self) -> bool:
        """A token bucket of ``client_event_rate`` events per second."""
        now = time.monotonic()
        rate = self.app.client_event_rate
        self._allowance = min(rate, self._allowance + (now - self._allowance_at) * rate)
        self._allowance_at = now
        if self._allowance < 1.0:
            return False
        self._allowance -= 1.0
        return True
