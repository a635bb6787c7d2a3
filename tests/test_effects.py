"""Effects: what an action asks the browser to do travels in its REPLY, and a failed
action's effects are dropped with its state change."""

from __future__ import annotations

import pytest

from livepy import Component, LivePy, action
from livepy.testing import LivepyTestError


class Effector(Component):
    template_source = "<div>{{ count }}</div>"
    count: int = 0

    @action
    def ping(self) -> None:
        self.count += 1
        self.add_effect("note", {"n": self.count})
        self.add_effect("note", {"n": -self.count})

    @action
    def ping_then_fail(self) -> None:
        self.add_effect("note", {"n": 99})
        raise RuntimeError("boom")


def test_effects_ride_in_the_reply_in_order() -> None:
    t = LivePy(secret_key="k" * 32).test(Effector)
    t.call("ping")
    assert t.last_reply is not None
    assert t.last_reply.effects == {"note": [{"n": 1}, {"n": -1}]}
    assert t.effects == [("note", {"n": 1}), ("note", {"n": -1})]


def test_a_reply_without_effects_carries_none() -> None:
    t = LivePy(secret_key="k" * 32).test(Effector)
    t.set("count", 5)
    assert t.last_reply is not None and t.last_reply.effects is None


def test_a_failed_action_drops_its_effects() -> None:
    t = LivePy(secret_key="k" * 32).test(Effector)
    with pytest.raises(LivepyTestError):
        t.call("ping_then_fail")
    t.call("ping")
    assert t.effects == [("note", {"n": 1}), ("note", {"n": -1})]
