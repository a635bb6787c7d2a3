"""push_event: server data for the component's lp-hooks travels as a hook_event effect."""

from __future__ import annotations

import pytest

from livepy import Component, LivePy, action
from livepy.protocol import constants as c
from livepy.testing import LivepyTestError

live = LivePy(templates=[], secret_key="h" * 32)


class Plot(Component):
    template_source = "<div>{{ points|length }}</div>"
    points: list[int] = []

    @action
    def add(self, value: int) -> None:
        self.points = [*self.points, value]
        self.push_event("points", self.points)

    @action
    def bad_name(self) -> None:
        self.push_event("", 1)

    @action
    def add_then_fail(self) -> None:
        self.push_event("points", [0])
        raise RuntimeError("boom")


def test_push_event_rides_in_the_reply_as_a_hook_event() -> None:
    t = live.test(Plot).call("add", 3).call("add", 4)
    assert t.effects == [
        (c.EFFECT_HOOK_EVENT, ["points", [3]]),
        (c.EFFECT_HOOK_EVENT, ["points", [3, 4]]),
    ]


def test_an_event_needs_a_name() -> None:
    with pytest.raises(LivepyTestError) as info:
        live.test(Plot).call("bad_name")
    assert info.value.code == c.ERR_COMPONENT_ERROR


def test_a_failed_action_sends_no_event() -> None:
    t = live.test(Plot)
    with pytest.raises(LivepyTestError):
        t.call("add_then_fail")
    assert t.effects == []


def test_push_event_cannot_be_a_state_field() -> None:
    from livepy import ComponentDefinitionError

    with pytest.raises(ComponentDefinitionError, match="reserved"):

        class Clash(Component):
            template_source = "<div></div>"
            push_event: int = 0
