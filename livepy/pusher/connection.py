"""One pusher-js socket: its socket_id, its channels, its presence view, serialized sends."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from livepy.pusher.config import PusherApp

__all__ = ["PusherConnection", "new_socket_id"]


def new_socket_id() -> str:
    """``\\d+\\.\\d+``, the shape the Pusher SDKs validate for exclusions."""
    return f"{random.randint(1, 10**9)}.{random.randint(1, 10**9)}"


class PusherConnection:
    def __init__(self, app: PusherApp, websocket: WebSocket) -> None:
        self.app = app
        self.websocket = websocket
        self.socket_id = new_socket_id()
        self.channels: set[str] = set()
        # presence channel -> (our key in the shared member list, the user id we joined as)
        self.presence_keys: dict[str, tuple[str, str]] = {}
        # presence channel -> user id -> user info, as this socket was last told
        self.presence_view: dict[str, dict[str, Any]] = {}
        self.last_received = time.monotonic()
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
