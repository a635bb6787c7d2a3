"""Lifecycle hooks: hydrate, dehydrate, updating/updated, rendering/rendered, exception."""

from __future__ import annotations

from typing import Any

import pytest

from livepy import Component, ComponentDefinitionError, LivePy, action, on
from livepy.protocol import constants as c
from livepy.testing import LivepyTestError

live = LivePy(templates=[], secret_key="k")


class Hooked(Component):
    template_source = "<div>{{ title }} / {{ slug }} / {{ renders }}</div>"
    title: str = ""
    slug: str = ""
    renders: int = 0
    log: list[str] = []

    def hydrate(self) -> None:
        self.log.append("hydrate")

    def dehydrate(self) -> None:
        self.log.append("dehydrate")

    def updating(self, name: str, value: Any) -> None:
        self.log.append(f"updating {name}={value!r}")

    def updating_title(self, value: str) -> None:
        if value == "forbidden":
            raise ValueError("no")

    def updated_title(self, value: str) -> None:
        self.slug = value.lower().replace(" ", "-")

    def updated(self, name: str, value: Any) -> None:
        self.log.append(f"updated {name}")

    def rendering(self) -> None:
        self.renders += 1

    def rendered(self, html: str) -> None:
        self.log.append(f"rendered {self.renders}")

    @action
    def noop(self) -> None:
        pass


def test_hooks_run_in_order_around_an_update() -> None:
    test = live.test(Hooked)
    instance = test.instance
    assert instance.log[:1] == ["rendered 1"]  # the page render; the join hydrates next
    assert "hydrate" in instance.log
    instance.log.clear()
    test.set("title", "Hello World").assert_see("Hello World / hello-world")
    assert instance.log == [
        "updating title='Hello World'",
        "updated title",
        f"rendered {instance.renders}",
        "dehydrate",
    ]
    test.assert_set("slug", "hello-world")


def test_updating_refuses_by_raising() -> None:
    test = live.test(Hooked).set("title", "kept")
    with pytest.raises(LivepyTestError) as info:
        test.set("title", "forbidden")
    assert info.value.code == c.ERR_COMPONENT_ERROR
    test.assert_set("title", "kept")
    assert test.instance.title == "kept"


def test_hook_methods_cannot_be_actions() -> None:
    with pytest.raises(ComponentDefinitionError, match="cannot be an @action"):

        class Bad(Component):
            template_source = "<div></div>"

            @action
            def rendered(self, html: str) -> None:
                pass


class Fragile(Component):
    template_source = "<div>{{ count }} {{ note }}</div>"
    count: int = 0
    note: str = ""

    @action
    def explode(self) -> None:
        self.count += 1
        raise KeyError("handled")

    @action
    def crash(self) -> None:
        self.count += 1
        raise RuntimeError("not handled")

    def exception(self, exc: Exception) -> bool:
        if isinstance(exc, KeyError):
            self.note = "recovered"
            return True
        return False


def test_exception_handled_keeps_the_change_and_sends_no_error() -> None:
    test = live.test(Fragile).call("explode")
    test.assert_see("1 recovered").assert_set("count", 1)


def test_exception_not_handled_rolls_back_with_an_error_frame() -> None:
    test = live.test(Fragile)
    with pytest.raises(LivepyTestError) as info:
        test.call("crash")
    assert info.value.code == c.ERR_COMPONENT_ERROR
    test.assert_set("count", 0)
    assert test.instance.count == 0


class NewsTicker(Component):
    template_source = "<div>{{ seen }} {{ note }}</div>"
    seen: int = 0
    note: str = ""

    @on("news", "Posted")
    def posted(self, data: dict[str, int]) -> None:
        self.seen += 1
        if data["n"] < 0:
            raise ArithmeticError("negative")

    def exception(self, exc: Exception) -> bool:
        self.note = type(exc).__name__
        return isinstance(exc, ArithmeticError)


def test_exception_hook_handles_a_listener_error() -> None:
    test = live.test(NewsTicker).receive("news", "Posted", {"n": 1}).assert_see("1")
    test.receive("news", "Posted", {"n": -1}).assert_see("2 ArithmeticError")
