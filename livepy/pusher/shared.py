"""Counts every process of a Pusher app agrees on, kept in the broker's shared presence store.

The broker's presence verbs are a keyed store whose entries belong to the process that wrote
them and vanish when that process stops beating (Redis) or stops (memory). Each process keeps
one entry per tally, its own count, so a total is the sum over live processes and a crashed
process drops out by itself. The tallies live under names no channel can have (``#`` is not
allowed in channel names):

* ``#pusher.subs:<channel>``: pusher sockets subscribed to the channel (``subscription_count``,
  ``occupied``);
* ``#pusher.channels``: one entry per channel this process has subscribers on (the channel list);
* ``#pusher.conns:<app id>``: sockets of the app (``max_connections``, ``/connections``).

Writes are coalesced: while one write of a tally is in flight, later changes only mark it dirty
and wait for it; the writer then writes the latest count again, so Redis ends with the last
value whatever order the commands ran in.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from livepy.broker import BrokerBackend, BrokerError, Hub

__all__ = ["CHANNEL_INDEX", "SharedTallies", "connections_tally", "subscriptions_tally"]

logger = logging.getLogger("livepy.pusher")

CHANNEL_INDEX = "#pusher.channels"
_COUNT_KEY = "pusher.count"  # this process's entry in a tally


def subscriptions_tally(channel: str) -> str:
    return f"#pusher.subs:{channel}"


def connections_tally(app_id: str) -> str:
    return f"#pusher.conns:{app_id}"


class SharedTallies:
    def __init__(self, hub: Callable[[], Hub]) -> None:
        self._hub = hub
        # (tally, entry) -> the count this process last stored
        self._written: dict[tuple[str, str], int] = {}
        self._writers: dict[tuple[str, str], asyncio.Future[None]] = {}
        self._dirty: set[tuple[str, str]] = set()

    async def store(
        self, tally: str, current: Callable[[], int], *, entry: str = _COUNT_KEY, label: str = ""
    ) -> None:
        """Make this process's ``entry`` of ``tally`` equal ``current()``, read at write time.

        A count of 0 removes the entry. ``label`` is stored instead of the count (for sets).
        """
        slot = (tally, entry)
        running = self._writers.get(slot)
        if running is not None:
            self._dirty.add(slot)
            await asyncio.shield(running)
            return
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._writers[slot] = done
        try:
            while True:
                self._dirty.discard(slot)
                await self._write(slot, current(), label)
                if slot not in self._dirty:
                    break
        finally:
            del self._writers[slot]
            done.set_result(None)

    async def _write(self, slot: tuple[str, str], count: int, label: str) -> None:
        if self._written.get(slot, 0) == count:
            return
        backend = await _started(self._hub())
        tally, entry = slot
        try:
            if count:
                await backend.presence_set(tally, entry, (label or str(count)).encode())
                self._written[slot] = count
            else:
                await backend.presence_remove(tally, entry)
                self._written.pop(slot, None)
        except BrokerError as exc:
            logger.warning("event=tally_failed tally=%s error=%s", tally, exc)

    async def total(self, tally: str, local: int | None = None) -> int:
        """The sum over live processes; ``local`` replaces this process's stored share."""
        entries = await (await _started(self._hub())).presence_members(tally)
        stored = sum(_count(value) for value in entries.values())
        if local is None:
            return stored
        return stored - self._written.get((tally, _COUNT_KEY), 0) + local

    async def mark(self, index: str, name: str, present: Callable[[], bool]) -> None:
        """Keep ``name`` in this process's part of the shared set ``index`` while ``present()``."""
        await self.store(index, lambda: int(present()), entry=name, label=name)

    async def members(self, index: str) -> set[str]:
        """The union of every live process's part of a shared set."""
        entries = await (await _started(self._hub())).presence_members(index)
        return {_text(value) for value in entries.values()}


async def _started(hub: Hub) -> BrokerBackend:
    await hub.start()  # idempotent; a process may be asked before its first socket
    return hub.backend


def _count(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
