"""The connection registry: every long-lived connection (WebSocket or SSE stream) of one process.

It enforces the per-process and per-IP connection limits, refuses new connections while the
server drains, and lets the drainer ask each connection to close. It holds no I/O itself: each
transport's pump watches its :class:`Connection` for a close request and closes its own socket.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from livepy.protocol import constants as c

if TYPE_CHECKING:
    from livepy.app import Limits

__all__ = [
    "LIMIT_MAX_CONNECTIONS",
    "LIMIT_MAX_CONNECTIONS_PER_IP",
    "Connection",
    "ConnectionRegistry",
    "Refusal",
]

# Names of the limits, as they appear in logs (`limit=`) and metrics (`limit` label).
LIMIT_MAX_CONNECTIONS = "max_connections"
LIMIT_MAX_CONNECTIONS_PER_IP = "max_connections_per_ip"
REFUSED_DRAINING = "draining"


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a new connection is refused: the WebSocket close code and the HTTP status for SSE."""

    reason: str  # LIMIT_* or REFUSED_DRAINING
    code: int
    message: str
    http_status: int

    @property
    def is_limit(self) -> bool:
        return self.reason != REFUSED_DRAINING


@dataclass(eq=False)
class Connection:
    """One open connection and its counters. ``transport`` is ``"ws"`` or ``"sse"``."""

    transport: str
    ip: str
    client: str
    id: str = field(default_factory=lambda: secrets.token_hex(4))
    opened_at: float = field(default_factory=time.monotonic)
    last_received: float = field(default_factory=time.monotonic)
    frames_in: int = 0
    frames_out: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    busy: bool = False  # handling a frame: frames queued meanwhile are unread, not missing
    close_code: int | None = None
    close_reason: str = ""
    close_requested: asyncio.Event = field(default_factory=asyncio.Event)

    def received(self, size: int) -> None:
        self.frames_in += 1
        self.bytes_in += size
        self.last_received = time.monotonic()

    def idle_for(self) -> float:
        """Seconds since the last frame was received; 0 while a frame is being handled."""
        return 0.0 if self.busy else time.monotonic() - self.last_received

    def sent(self, size: int) -> None:
        self.frames_out += 1
        self.bytes_out += size

    def request_close(self, code: int, reason: str) -> None:
        """Ask the connection's pump to close it (the first request wins)."""
        if self.close_code is None:
            self.close_code, self.close_reason = code, reason
        self.close_requested.set()

    @property
    def duration(self) -> float:
        return time.monotonic() - self.opened_at


class ConnectionRegistry:
    """Open connections of one process, counted per client IP."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.draining = False
        self._open: set[Connection] = set()
        self._per_ip: Counter[str] = Counter()
        self._changed = asyncio.Event()

    def __len__(self) -> int:
        return len(self._open)

    def __iter__(self) -> Iterator[Connection]:
        return iter(list(self._open))

    def count(self, ip: str) -> int:
        return self._per_ip[ip]

    def refusal(self, ip: str) -> Refusal | None:
        """Why a new connection from ``ip`` may not open now, or None when it may."""
        if self.draining:
            return Refusal(REFUSED_DRAINING, c.WS_CLOSE_SERVICE_RESTART, "server restarting", 503)
        limit = self.limits.max_connections
        if limit is not None and len(self._open) >= limit:
            return Refusal(
                LIMIT_MAX_CONNECTIONS,
                c.WS_CLOSE_TOO_MANY_CONNECTIONS,
                f"too many connections on this server (limit {limit})",
                429,
            )
        limit = self.limits.max_connections_per_ip
        if limit is not None and self._per_ip[ip] >= limit:
            return Refusal(
                LIMIT_MAX_CONNECTIONS_PER_IP,
                c.WS_CLOSE_TOO_MANY_CONNECTIONS,
                f"too many connections from this address (limit {limit})",
                429,
            )
        return None

    def add(self, connection: Connection) -> None:
        self._open.add(connection)
        self._per_ip[connection.ip] += 1
        self._notify()

    def discard(self, connection: Connection) -> None:
        if connection not in self._open:
            return
        self._open.discard(connection)
        self._per_ip[connection.ip] -= 1
        if self._per_ip[connection.ip] <= 0:
            del self._per_ip[connection.ip]
        self._notify()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_empty(self, seconds: float) -> bool:
        """Wait until no connection is open, at most ``seconds``; True if empty."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while self._open:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                return not self._open
        return True
