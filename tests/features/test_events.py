"""Events between components through livepy.testing: dispatch, @on listeners, browser events."""

from __future__ import annotations

import pytest

from livepy import Component, ComponentDefinitionError, LivePy, action, on
from livepy.features.events import MAX_EVENT_DEPTH
from livepy.protocol import constants as c
from livepy.testing import LivepyTestError


class EvCart(Component):
    template_source = "<div>{{ items|length }} items, last {{ last }}</div>"
    items: list[int] = []
    last: int = 0

    @action
    def add(self, item_id: int) -> None:
        self.items.append(item_id)
        self.dispatch("cart-changed", count=len(self.items), last=item_id)

    @action
    def add_for_parent(self, item_id: int) -> None:
        self.dispatch("picked", id=item_id).up()

    @action
    def tell_badge(self) -> None:
        self.dispatch("cart-changed", count=1).to("ev_badge")

    @action
    def tell_nobody(self) -> None:
        self.dispatch("cart-changed").to("no_such_component")

    @action
    def notify(self) -> None:
        self.dispatch_browser("notify", message="hi")

    @on("cart-changed")
    def changed(self, last: int, count: int = 0) -> None:
        self.last = last

    @on("private-orders.{last}", "Shipped")
    def shipped(self, event: dict[str, int]) -> None:
        self.last = -1


class EvBadge(Component):
    template_source = "<span>{{ count }}</span>"
    count: int = 0
    echoes: int = 0

    @on("cart-changed")
    async def update(self, count: int) -> None:
        self.count = count

    @on("echo")
    def echo(self) -> None:
        self.echoes += 1
        self.dispatch("echo")


@pytest.fixture
def live() -> LivePy:
    return LivePy(secret_key="k" * 32)


def test_dispatch_travels_as_an_effect(live: LivePy) -> None:
    t = live.test(EvCart).call("add", "7")
    t.assert_dispatched("cart-changed")
    t.assert_dispatched("cart-changed", count=1, last=7)
    t.assert_not_dispatched("saved")
    with pytest.raises(AssertionError):
        t.assert_dispatched("cart-changed", count=2)
    assert ("dispatch", {"name": "cart-changed", "params": {"count": 1, "last": 7}}) in t.effects


def test_scopes_narrow_the_effect(live: LivePy) -> None:
    t = live.test(EvCart).call("add_for_parent", 3).call("tell_badge")
    values = [value for kind, value in t.effects if kind == "dispatch"]
    assert values[0] == {"name": "picked", "params": {"id": 3}, "up": True}
    assert values[1] == {"name": "cart-changed", "params": {"count": 1}, "to": "ev_badge"}


def test_dispatch_to_an_unknown_component_is_an_error(live: LivePy) -> None:
    t = live.test(EvCart)
    with pytest.raises(LivepyTestError) as info:
        t.call("tell_nobody")
    assert info.value.code == c.ERR_COMPONENT_ERROR
    debug = LivePy(secret_key="k" * 32, debug=True).test(EvCart)
    with pytest.raises(LivepyTestError, match="no_such_component"):
        debug.call("tell_nobody")


def test_listener_params_are_converted_by_name(live: LivePy) -> None:
    t = live.test(EvCart).dispatch("cart-changed", last="42", ignored="x")
    t.assert_set("last", 42).assert_see("last 42")
    live.test(EvBadge).dispatch("cart-changed", count=5).assert_set("count", 5)


def test_a_bad_param_is_refused_with_bad_argument(live: LivePy) -> None:
    t = live.test(EvCart)
    with pytest.raises(LivepyTestError) as info:
        t.dispatch("cart-changed", last="many")
    assert info.value.code == c.ERR_BAD_ARGUMENT
    with pytest.raises(LivepyTestError, match="has no param 'last'") as info:
        t.dispatch("cart-changed", count=1)
    assert info.value.code == c.ERR_BAD_ARGUMENT
    t.assert_set("last", 0)


def test_an_event_nobody_listens_to_is_refused(live: LivePy) -> None:
    t = live.test(EvBadge)
    with pytest.raises(LivepyTestError) as info:
        t.dispatch("saved")
    assert info.value.code == c.ERR_UNKNOWN_EVENT
    # A channel listener is no component event, and no other method is reachable.
    with pytest.raises(LivepyTestError) as info:
        live.test(EvCart).dispatch("Shipped", event={})
    assert info.value.code == c.ERR_UNKNOWN_EVENT


@pytest.mark.parametrize(
    "args",
    [(), ("echo",), (1, {}), ("echo", []), ("echo", {}, "2"), ("echo", {}, 0), ("e", {}, 1, 2)],
)
def test_malformed_event_calls_are_refused(live: LivePy, args: tuple[object, ...]) -> None:
    t = live.test(EvBadge)
    with pytest.raises(LivepyTestError) as info:
        t.call("$event", *args)
    assert info.value.code == c.ERR_BAD_ARGUMENT


def test_an_unknown_reserved_call_is_an_unknown_action(live: LivePy) -> None:
    with pytest.raises(LivepyTestError) as info:
        live.test(EvBadge).call("$nothing")
    assert info.value.code == c.ERR_UNKNOWN_ACTION


def test_listener_dispatches_carry_their_depth_and_loops_stop(live: LivePy) -> None:
    t = live.test(EvBadge).dispatch("echo")
    t.assert_dispatched("echo")
    assert t.effects[-1] == ("dispatch", {"name": "echo", "params": {}, "depth": 2})
    t.call("$event", "echo", {}, MAX_EVENT_DEPTH)
    with pytest.raises(LivepyTestError, match="loop") as info:
        t.call("$event", "echo", {}, MAX_EVENT_DEPTH + 1)
    assert info.value.code == c.ERR_BAD_ARGUMENT
    t.assert_set("echoes", 2)


def test_browser_events(live: LivePy) -> None:
    t = live.test(EvCart).call("notify")
    t.assert_dispatched_browser("notify").assert_dispatched_browser("notify", message="hi")
    with pytest.raises(AssertionError):
        t.assert_dispatched_browser("notify", message="bye")


def test_listened_events_are_named_on_the_first_render(live: LivePy) -> None:
    cart, badge = EvCart(), EvBadge()
    cart.id = badge.id = "x"
    assert 'lp-listen="cart-changed"' in live.renderer.render_page_html(cart)
    assert 'lp-listen="echo cart-changed"' in live.renderer.render_page_html(badge)
    assert "lp-listen" not in live.renderer.render_html(cart)  # read once, at start


def test_params_must_be_wire_data(live: LivePy) -> None:
    class EvBad(Component):
        template_source = "<div></div>"

        @action
        def go(self) -> None:
            self.dispatch("x", when=object())

    with pytest.raises(LivepyTestError):
        live.test(EvBad).call("go")


def test_listener_definitions_are_checked() -> None:
    with pytest.raises(ComponentDefinitionError, match="type annotation"):

        class EvNoHint(Component):
            @on("x")
            def f(self, value) -> None: ...  # type: ignore[no-untyped-def]

    with pytest.raises(ComponentDefinitionError, match="by name"):

        class EvKwargs(Component):
            @on("x")
            def f(self, **params: int) -> None: ...

    with pytest.raises(ComponentDefinitionError, match="white space"):

        class EvSpace(Component):
            @on("two words")
            def f(self) -> None: ...

    with pytest.raises(ComponentDefinitionError, match="reserved"):

        class EvReserved(Component):
            dispatch: int = 0  # type: ignore[assignment]
