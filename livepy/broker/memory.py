"""The in-process broker: the embedded default, and the test double for the contract."""

from __future__ import annotations

import secrets
from collections import deque

from livepy.broker.base import BrokerBackend, Deliver, Delivery

__all__ = ["MemoryBackend"]


class MemoryBackend(BrokerBackend):
    def __init__(self, history_size: int = 100) -> None:
        self.history_size = history_size
        self.epoch = secrets.token_hex(4)  # a new process starts a new epoch
        self._deliver: Deliver | None = None
        self._subscribed: set[str] = set()
        self._history: dict[str, deque[Delivery]] = {}
        self._offsets: dict[str, int] = {}
        self._presence: dict[str, dict[str, bytes]] = {}

    async def start(self, deliver: Deliver) -> None:
        self._deliver = deliver

    async def stop(self) -> None:
        self._deliver = None
        self._subscribed.clear()

    async def publish(self, channel: str, payload: bytes) -> tuple[str, str]:
        offset = self._offsets.get(channel, 0) + 1
        self._offsets[channel] = offset
        delivery = Delivery(channel, payload, self.epoch, str(offset))
        history = self._history.setdefault(channel, deque(maxlen=self.history_size))
        history.append(delivery)
        if channel in self._subscribed and self._deliver is not None:
            await self._deliver(delivery)
        return self.epoch, delivery.offset

    async def subscribe(self, channel: str) -> None:
        self._subscribed.add(channel)

    async def unsubscribe(self, channel: str) -> None:
        self._subscribed.discard(channel)

    async def history(self, channel: str, epoch: str, after: str) -> list[Delivery] | None:
        if epoch != self.epoch or not after.isdigit():
            return None
        last = int(after)
        kept = list(self._history.get(channel, ()))
        if last > self._offsets.get(channel, 0):
            return None
        if kept and int(kept[0].offset) > last + 1:
            return None  # trimmed: something between `after` and the oldest kept is gone
        return [d for d in kept if int(d.offset) > last]

    async def recent(self, channel: str, limit: int) -> list[Delivery]:
        kept = self._history.get(channel, ())
        return list(kept)[-limit:] if limit > 0 else []

    async def presence_set(self, channel: str, key: str, member: bytes) -> None:
        self._presence.setdefault(channel, {})[key] = member

    async def presence_remove(self, channel: str, key: str) -> None:
        members = self._presence.get(channel)
        if members is not None:
            members.pop(key, None)
            if not members:
                del self._presence[channel]

    async def presence_members(self, channel: str) -> dict[str, bytes]:
        return dict(self._presence.get(channel, {}))
