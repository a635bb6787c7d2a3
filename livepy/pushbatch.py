"""Broadcast pushes to idle sessions, run one after another by one task instead of a task each.

A broadcast reaches every subscribed session of the process at once. A session with nothing
queued and no worker would start a task of its own to apply the change, render and push: one
task creation and one event loop wake-up per connection, a measurable share of a fan-out to
thousands of them (see docs/topics/performance.md). Instead such a session joins this loop's
batch, and one task drains the sessions of the batch in turn.

A session's drain usually finishes without waiting (its lock is free, the socket takes the
frame). When it does wait (a CALL holds the lock, a socket is full), the batch's task carries on
with that session alone, as its worker, and a new task takes the rest of the batch: one slow
connection never holds up the others, and the session queues further changes for its worker,
as before. Each session is drained by one
coroutine at a time, in arrival order: per-connection order and the bounded queue are the
session's, unchanged.

A batch lets the loop run every ``SLICE`` seconds: a broadcast to 5,000 components takes a few
hundred milliseconds, during which the frames already made would otherwise wait unwritten and
every other connection of the process would wait for its turn.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any

from livepy.resume import resume

__all__ = ["SLICE", "PushBatch", "push_batch"]

logger = logging.getLogger("livepy.session")

Drain = Callable[[], Coroutine[Any, Any, None]]
Started = Callable[["asyncio.Task[Any]"], None]

_batches: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, PushBatch] = (
    weakref.WeakKeyDictionary()
)
# A batch runs this long (seconds) at most before it lets the loop run: the frames queued so far
# are written (clients start reading while the server renders the rest) and clicks, PINGs and
# other work are served, instead of waiting out a fan-out to thousands of components.
SLICE = 0.001
_last_batch: PushBatch | None = None  # the batch asked for last (holds its loop until replaced)


def push_batch() -> PushBatch:
    """The running loop's batch (created on first use)."""
    global _last_batch
    loop = asyncio.get_running_loop()
    last = _last_batch
    if last is not None and last._loop is loop:  # a fan-out asks once per session
        return last
    batch = _batches.get(loop)  # a weak reference made per lookup
    if batch is None:
        batch = _batches[loop] = PushBatch(loop)
    _last_batch = batch
    return batch


class PushBatch:
    """Drains queued sessions in turn; a drain that waits continues as a task of its own."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        # (drain, started): started receives the task that continues a drain that waited.
        self._ready: deque[tuple[Drain, Started]] = deque()
        self._task: asyncio.Task[Any] | None = None
        self.inline = 0  # drains that finished without waiting (tests and profiling)
        self.slice = SLICE

    def add(self, drain: Drain, started: Started) -> None:
        self._ready.append((drain, started))
        if self._task is None or self._task.done():
            self._task = self._loop.create_task(self._run())

    async def settle(self) -> None:
        """Wait until every drain queued so far has run, including those that had to wait
        (livepy.testing: a pushed frame is there to look at once this returns)."""
        while (task := self._task) is not None and not task.done():
            await task

    def _hand_on(self) -> None:
        """This task stops draining the batch: a new one takes the sessions still waiting."""
        self._task = self._loop.create_task(self._run()) if self._ready else None

    async def _run(self) -> None:
        ready = self._ready
        loop = self._loop
        pause_at = loop.time() + self.slice
        while ready:
            if loop.time() >= pause_at:  # let the loop write what is queued, serve the rest
                try:
                    await asyncio.sleep(0)
                except BaseException:
                    self._hand_on()
                    raise
                pause_at = loop.time() + self.slice
            drain, started = ready.popleft()
            coro = drain()
            try:
                waiting = coro.send(None)
            except StopIteration:
                self.inline += 1
                continue
            except Exception:  # one session's failure must not starve the others
                logger.exception("event=push_failed")
                continue
            except BaseException:  # a CancelledError raised inside: the rest still run
                self._hand_on()
                raise
            # This drain waits: this task becomes that session's worker (what the drain set
            # up in its first step, such as a send's deadline, belongs to this task), and a
            # new task takes the rest of the batch.
            self._hand_on()
            task = asyncio.current_task()
            assert task is not None
            started(task)
            await resume(coro, waiting)
            return
