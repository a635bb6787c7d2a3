import pytest

from livepy import Component, LivePy, action, on
from livepy.protocol import constants as c
from livepy.testing import LivepyTestError, authorize


class CounterUnderTest(Component):
    template_source = "<div><span>Count: {{ count }}</span> <b>{{ note }}</b></div>"
    count: int = 0
    note: str = ""

    def mount(self, start: int = 0) -> None:
        self.count = start

    @action
    def increment(self, by: int = 1) -> None:
        self.count += by

    @action
    async def later(self) -> None:
        self.count += 10


live = LivePy(templates=[], secret_key="k")


def test_call_and_assert_see() -> None:
    test = live.test(CounterUnderTest, start=1).call("increment").assert_see("Count: 2")
    test.call("increment", "5").assert_see("Count: 7").assert_dont_see("Count: 2")
    test.set("note", "<hi>").assert_see("<hi>").assert_see_html("&lt;hi&gt;")
    assert test.state == {"count": 7, "note": "<hi>"}
    live.snapshots.verify(test.snapshot)


def test_by_name_and_errors_carry_codes() -> None:
    test = live.test("counter_under_test")
    with pytest.raises(LivepyTestError) as info:
        test.call("increment", "many")
    assert info.value.code == c.ERR_BAD_ARGUMENT
    with pytest.raises(LivepyTestError) as info:
        test.call("mount")
    assert info.value.code == c.ERR_UNKNOWN_ACTION


async def test_async_use() -> None:
    test = live.test(CounterUnderTest)
    with pytest.raises(RuntimeError, match="acall"):
        test.call("later")
    await test.acall("later")
    test.assert_set("count", 10)


class OrderTracker(Component):
    name = "order_tracker_under_test"  # examples/orders registers "order_tracker"
    template_source = "<div>order {{ order_id }}: {{ status }}</div>"
    order_id: int = 1
    status: str = "new"

    @on("private-orders.{order_id}", "Shipped")
    def shipped(self, data: dict[str, str]) -> None:
        self.status = "shipped by " + data["carrier"]

    @action
    def cancel(self) -> None:
        self.status = "cancelled"
        self.broadcast(f"private-orders.{self.order_id}", "Cancelled", {"id": self.order_id})


@live.channel("orders.{order_id}")
def owner_only(user: str | None, order_id: int) -> bool:
    return user == "alice"


def test_broadcasting_helpers() -> None:
    test = live.test(OrderTracker, acting_as="alice").assert_listening("private-orders.1")
    test.receive("private-orders.1", "Shipped", {"carrier": "DHL"}).assert_see("shipped by DHL")
    test.call("cancel").assert_broadcast("private-orders.1", "Cancelled", {"id": 1})
    with pytest.raises(AssertionError, match="no broadcast"):
        test.assert_broadcast("private-orders.1", "Shipped")


def test_refused_channel_is_visible_to_tests() -> None:
    test = live.test(OrderTracker, acting_as="mallory").assert_refused("private-orders.1")
    test.receive("private-orders.1", "Shipped", {"carrier": "DHL"}).assert_see("order 1: new")


class TypingIndicator(Component):
    template_source = "<p>{{ typing or 'nobody' }} is typing</p>"
    room: int = 1
    typing: str = ""

    @on("private-room.{room}", "client-typing")
    def someone_types(self, data: dict[str, str]) -> None:
        self.typing = data["name"]


@live.channel("room.{room}")
def members_only(user: str | None, room: int) -> bool:
    return user is not None


def test_a_whisper_is_received_as_its_client_event() -> None:
    test = live.test(TypingIndicator, acting_as="ada").assert_see("nobody is typing")
    test.receive("private-room.1", "client-typing", {"name": "Ada"}).assert_see("Ada is typing")


def test_authorize_helper() -> None:
    assert authorize(live, "alice", "private-orders.7").allowed
    assert not authorize(live, "bob", "private-orders.7").allowed
    assert not authorize(live, "alice", "private-invoices.7").allowed
    assert authorize(live, None, "public-news").allowed


class FailingAction(Component):
    template_source = "<div></div>"

    @action
    def fail(self) -> None:
        raise ValueError("out of stock")


def test_a_logged_failure_has_no_event_loop_noise(caplog: pytest.LogCaptureFixture) -> None:
    with pytest.raises(LivepyTestError) as info:
        live.test(FailingAction).call("fail")
    assert info.value.code == c.ERR_COMPONENT_ERROR
    logged = [r.exc_info[1] for r in caplog.records if r.exc_info and r.exc_info[1]]
    assert logged and isinstance(logged[-1], ValueError)
    # the test client's own loop check must not show up as "During handling of ..."
    assert logged[-1].__context__ is None
