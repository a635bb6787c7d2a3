"""finish_within: asyncio.timeout's behaviour, with no timer for a coroutine that never waits;
and the WebSocket pump's send timeout built on it."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from livepy import LivePy
from livepy.protocol import constants as c
from livepy.transport import deadline
from livepy.transport.connections import Connection
from livepy.transport.deadline import finish_within
from livepy.transport.websocket import _Pump


async def immediate() -> str:
    return "done"


async def waits(seconds: float) -> str:
    await asyncio.sleep(seconds)
    await asyncio.sleep(0)  # a bare yield (None) to the loop, as some awaitables do
    return "done"


async def test_a_coroutine_that_never_waits_arms_no_timer(monkeypatch: Any) -> None:
    def no_timer(seconds: float) -> Any:
        raise AssertionError("a timer was armed")

    monkeypatch.setattr(deadline.asyncio, "timeout", no_timer)
    assert await finish_within(immediate(), 0.5) == "done"


async def test_a_coroutine_that_waits_finishes_within_its_time() -> None:
    assert await finish_within(waits(0.01), 5) == "done"


async def test_a_coroutine_that_waits_too_long_raises_timeout_and_is_cancelled() -> None:
    cleaned_up = asyncio.Event()

    async def forever() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            cleaned_up.set()

    async with asyncio.timeout(5):  # (a limit that never fired would hang the test)
        with pytest.raises(TimeoutError):
            await finish_within(forever(), 0.05)
    assert cleaned_up.is_set()


async def test_errors_come_through_before_and_after_the_first_wait() -> None:
    async def fails_at_once() -> None:
        raise ValueError("at once")

    async def fails_later() -> None:
        await asyncio.sleep(0.001)
        raise ValueError("later")

    with pytest.raises(ValueError, match="at once"):
        await finish_within(fails_at_once(), 1)
    with pytest.raises(ValueError, match="later"):
        await finish_within(fails_later(), 1)


async def test_an_outside_cancellation_stays_a_cancellation() -> None:
    started = asyncio.Event()

    async def slow() -> None:
        started.set()
        await asyncio.sleep(10)

    task = asyncio.create_task(finish_within(slow(), 5))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


class StuckSocket:
    """A WebSocket whose sends wait forever, as when the peer stopped reading."""

    def __init__(self, stuck: bool) -> None:
        self.stuck = stuck
        self.scope: dict[str, Any] = {"type": "websocket"}  # plain ASGI: no direct send
        self.sent: list[bytes] = []
        self.closed_with: tuple[int, str] | None = None

    async def _send(self, message: dict[str, Any]) -> None:  # the ASGI send the pump calls
        if self.stuck:
            await asyncio.Event().wait()
        assert message["type"] == "websocket.send"
        self.sent.append(message["bytes"])

    async def close(self, code: int, reason: str) -> None:
        self.closed_with = (code, reason)


@pytest.mark.parametrize("stuck", [False, True])
async def test_the_pump_closes_a_socket_whose_send_does_not_finish(stuck: bool) -> None:
    live = LivePy(templates=[], secret_key="k", send_timeout=0.05)
    socket = StuckSocket(stuck)
    conn = Connection("ws", "127.0.0.1", "127.0.0.1:1")
    pump = _Pump(live, socket, conn)  # type: ignore[arg-type]
    async with asyncio.timeout(5):
        assert await pump.send(b"frame") is not stuck
    if stuck:
        assert socket.closed_with == (c.WS_CLOSE_SLOW_CONSUMER, "slow consumer")
        assert conn.close_code == c.WS_CLOSE_SLOW_CONSUMER
        assert await pump.send(b"next") is False  # closed: nothing more is sent
    else:
        assert socket.sent == [b"frame"] and conn.frames_out == 1
