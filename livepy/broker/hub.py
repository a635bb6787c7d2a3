"""The hub: this process's single subscription per channel, fanned out to local listeners.

Every local listener of a channel shares one backend subscription; the first listener
subscribes the process and the last one unsubscribes it. Messages are envelopes
``msgpack([event, data, exclude])`` so payloads stay bytes through the backend.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import msgpack

from livepy.broker.base import BrokerBackend, Delivery

__all__ = ["Event", "Hub", "Listener"]

logger = logging.getLogger("livepy.broker")


@dataclass(frozen=True, slots=True)
class Event:
    channel: str
    name: str
    data: Any
    exclude: str | None
    epoch: str
    offset: str


Listener = Callable[[Event], Awaitable[None]]


def encode_event(name: str, data: Any, exclude: str | None) -> bytes:
    packed: bytes = msgpack.packb([name, data, exclude], use_bin_type=True)
    return packed


def decode_event(delivery: Delivery) -> Event:
    name, data, exclude = msgpack.unpackb(delivery.payload, raw=False)
    return Event(delivery.channel, name, data, exclude, delivery.epoch, delivery.offset)


class Hub:
    def __init__(self, backend: BrokerBackend) -> None:
        self.backend = backend
        self._listeners: dict[str, set[Listener]] = {}
        self._started = False
        # Called with (channel, event, data, exclude) on every publish: test recorders.
        self.observers: list[Callable[[str, str, Any, str | None], None]] = []

    async def start(self) -> None:
        if not self._started:
            await self.backend.start(self._dispatch)
            self._started = True

    async def stop(self) -> None:
        if self._started:
            await self.backend.stop()
            self._started = False
            self._listeners.clear()

    async def publish(self, channel: str, name: str, data: Any, exclude: str | None = None) -> str:
        for observe in self.observers:
            observe(channel, name, data, exclude)
        await self.start()
        _, offset = await self.backend.publish(channel, encode_event(name, data, exclude))
        return offset

    async def listen(self, channel: str, listener: Listener) -> None:
        await self.start()
        listeners = self._listeners.setdefault(channel, set())
        first = not listeners
        listeners.add(listener)
        if first:
            await self.backend.subscribe(channel)

    async def unlisten(self, channel: str, listener: Listener) -> None:
        listeners = self._listeners.get(channel)
        if not listeners or listener not in listeners:
            return
        listeners.discard(listener)
        if not listeners:
            del self._listeners[channel]
            await self.backend.unsubscribe(channel)

    async def deliver_locally(self, channel: str, name: str, data: Any = None) -> None:
        """Hand an event to this process's listeners only (no broker round trip)."""
        await self._dispatch(Delivery(channel, encode_event(name, data, None), "", "0"))

    def channels(self) -> list[str]:
        return list(self._listeners)

    def listener_count(self, channel: str) -> int:
        return len(self._listeners.get(channel, ()))

    async def _dispatch(self, delivery: Delivery) -> None:
        try:
            event = decode_event(delivery)
        except Exception:
            logger.warning("event=bad_broker_message channel=%s", delivery.channel)
            return
        for listener in list(self._listeners.get(delivery.channel, ())):
            try:
                await listener(event)
            except Exception:  # one listener's failure must not starve the others
                logger.exception("event=listener_error channel=%s", delivery.channel)
