"""The broker contract every backend fulfils: publish with history, subscribe, presence.

Payloads stay bytes end to end. ``publish`` stores the message in a bounded per-channel
history and fans it out to every process subscribed to the channel, tagged with its
``(epoch, offset)``; a reconnecting client asks ``history`` for what came after the last
offset it saw, and gets ``None`` when that is no longer possible (the history was trimmed
or the epoch changed), so it knows to resync in full.
"""

from __future__ import annotations

import abc
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from livepy.protocol.errors import LivepyError

__all__ = ["BrokerBackend", "BrokerError", "Deliver", "Delivery"]


class BrokerError(LivepyError):
    """The broker could not do what was asked (for example Redis is unreachable)."""


@dataclass(frozen=True, slots=True)
class Delivery:
    channel: str
    payload: bytes
    epoch: str
    offset: str


Deliver = Callable[[Delivery], Awaitable[None]]


class BrokerBackend(abc.ABC):
    """Seven verbs, plus the optional ``recent``; the URL scheme picks the backend."""

    history_size: int = 100

    @abc.abstractmethod
    async def start(self, deliver: Deliver) -> None:
        """Connect; from now on, messages on subscribed channels go to ``deliver``."""

    @abc.abstractmethod
    async def stop(self) -> None: ...

    @abc.abstractmethod
    async def publish(self, channel: str, payload: bytes) -> tuple[str, str]:
        """Store and fan out; return the message's ``(epoch, offset)``."""

    @abc.abstractmethod
    async def subscribe(self, channel: str) -> None: ...

    @abc.abstractmethod
    async def unsubscribe(self, channel: str) -> None: ...

    @abc.abstractmethod
    async def history(self, channel: str, epoch: str, after: str) -> list[Delivery] | None:
        """Messages after ``after`` in ``epoch``, oldest first; None when not recoverable."""

    async def recent(self, channel: str, limit: int) -> list[Delivery]:
        """Up to ``limit`` of the newest messages kept for ``channel``, oldest first.

        Cache channels read their last event from here, so it is shared by every process.
        """
        return []

    @abc.abstractmethod
    async def presence_set(self, channel: str, key: str, member: bytes) -> None: ...

    @abc.abstractmethod
    async def presence_remove(self, channel: str, key: str) -> None: ...

    @abc.abstractmethod
    async def presence_members(self, channel: str) -> dict[str, bytes]:
        """Every live member entry of ``channel`` across all processes, by key."""
