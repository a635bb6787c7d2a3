"""Plain-function and async listeners of one event run in order, and a failure in either undoes
the whole event's change (plain ones run without a coroutine, the rest in one)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from livepy import Component, LivePy, on
from livepy.protocol import constants as c
from livepy.testing import LivepyTestError

live = LivePy(templates=[], secret_key="k")


class MixedListeners(Component):
    template_source = "<p>{{ steps | join(',') }} / {{ total }}</p>"
    steps: list[str] = []
    total: int = 0

    @on("mixed", "Step")
    def a_first(self, data: dict[str, Any]) -> None:
        self.steps = [*self.steps, "a"]
        self.total += data["n"]

    @on("mixed", "Step")
    async def b_second(self, data: dict[str, Any]) -> None:
        await asyncio.sleep(0)  # really suspends
        self.steps = [*self.steps, "b"]
        if data.get("fail") == "b":
            raise RuntimeError("b failed")

    @on("mixed", "Step")
    def c_third(self, data: dict[str, Any]) -> None:
        self.steps = [*self.steps, "c"]
        if data.get("fail") == "c":
            raise RuntimeError("c failed")


def test_plain_and_async_listeners_run_in_order() -> None:
    test = live.test(MixedListeners)
    test.receive("mixed", "Step", {"n": 2}).assert_see("a,b,c / 2")
    test.receive("mixed", "Step", {"n": 3}).assert_see("a,b,c,a,b,c / 5")


@pytest.mark.parametrize("failing", ["b", "c"])
def test_a_failing_listener_undoes_the_event(failing: str) -> None:
    test = live.test(MixedListeners)
    test.receive("mixed", "Step", {"n": 2})
    with pytest.raises(LivepyTestError) as raised:
        test.receive("mixed", "Step", {"n": 5, "fail": failing})
    assert raised.value.code == c.ERR_COMPONENT_ERROR
    assert test.state == {"steps": ["a", "b", "c"], "total": 2}
    # The server side was undone too: the next event starts from the state before the failure.
    test.receive("mixed", "Step", {"n": 1}).assert_see("a,b,c,a,b,c / 3")
