"""@computed: cached within a request, optionally across requests until forget()."""

from __future__ import annotations

import pytest

from livepy import Component, ComponentDefinitionError, LivePy, action, computed

live = LivePy(templates=[], secret_key="k")


class ComputedCart(Component):
    template_source = "<div>{{ total }} {{ total }} {{ this.total }} | {{ rate }}</div>"
    prices: list[int] = []
    base_rate: int = 2
    computed_total: int = 0  # how often total was worked out, for the test

    @computed
    def total(self) -> int:
        self.computed_total += 1
        return sum(self.prices)

    @computed(persist=True)
    def rate(self) -> int:
        return self.base_rate * 10

    @action
    def add(self, price: int) -> None:
        assert self.total == sum(self.prices)  # read before the change...
        self.prices.append(price)

    @action
    def bump_rate(self, refresh: bool) -> None:
        self.base_rate += 1
        if refresh:
            self.forget("rate")


def test_computed_is_a_template_variable_worked_out_once_per_render() -> None:
    test = live.test(ComputedCart, prices=[1, 2])
    test.assert_see("3 3 3 | 20")
    before = test.instance.computed_total
    test.call("add", 4).assert_see("7 7 7")  # ...and the render is not stale
    assert test.instance.computed_total == before + 2  # once in the action, once to render


def test_persisted_computed_waits_for_forget() -> None:
    test = live.test(ComputedCart)
    test.call("bump_rate", False).assert_see("| 20")
    test.call("bump_rate", True).assert_see("| 40")


def test_computed_cannot_be_assigned_or_collide() -> None:
    with pytest.raises(AttributeError, match="computed"):
        ComputedCart().total = 3
    with pytest.raises(ComponentDefinitionError, match="both a state field and a @computed"):

        class Clash(Component):
            template_source = "<div></div>"
            total: int = 0

            @computed
            def total(self) -> int:  # type: ignore[no-redef]  # noqa: F811
                return 1
