import pytest

from livepy import Component, LivePy, action
from livepy.protocol import constants as c
from livepy.testing import LivepyTestError


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
