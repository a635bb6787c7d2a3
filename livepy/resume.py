"""Finishing a coroutine that was started by hand: the rest of ``await coro`` once it yielded.

Two places run a coroutine up to its first suspension themselves, to skip work when it never
waits: a send under a deadline (``livepy.transport.deadline``) and a batch of broadcast pushes
(``livepy.pushbatch``). When it does wait, ``resume`` hands the rest of it to the awaiting task.
"""

from __future__ import annotations

import types
from collections.abc import Coroutine, Generator
from typing import Any, TypeVar

__all__ = ["resume"]

T = TypeVar("T")


@types.coroutine
def resume(coro: Coroutine[Any, Any, T], waiting: Any) -> Generator[Any, Any, T]:
    """The rest of ``await coro`` for a coroutine that already yielded ``waiting``: what it
    waits on goes up to the task, results and exceptions (a cancellation) come back to it."""
    while True:
        try:
            result = yield waiting
        except BaseException as exc:
            try:
                waiting = coro.throw(exc)
            except StopIteration as done:
                return done.value  # type: ignore[no-any-return]
        else:
            try:
                waiting = coro.send(result)
            except StopIteration as done:
                return done.value  # type: ignore[no-any-return]
