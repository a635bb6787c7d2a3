"""A coroutine under a time limit, with the timer armed only when the coroutine really waits.

A WebSocket send almost always completes without suspending (the bytes go into the socket's
buffer): it waits only when the peer stops reading. ``asyncio.timeout`` schedules and cancels a
timer on every use, which cost 5-7 us per frame in the click round trip (measured in process
with a cold cache, as a server sees between clicks; see docs/topics/performance.md).
``finish_within`` runs the coroutine up to its first suspension and arms the timer only if
there is one, so the common send pays nothing for its limit.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

from livepy.resume import resume

__all__ = ["finish_within"]

T = TypeVar("T")


async def finish_within(coro: Coroutine[Any, Any, T], seconds: float) -> T:
    """``await coro`` under ``asyncio.timeout(seconds)``: raises TimeoutError the same way."""
    try:
        waiting = coro.send(None)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]  # finished without waiting
    async with asyncio.timeout(seconds):
        return await resume(coro, waiting)
