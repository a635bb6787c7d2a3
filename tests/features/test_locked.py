"""Locked[T]: state the browser can never change through a model update."""

from __future__ import annotations

import dataclasses
from typing import Annotated

import pytest

from livepy import Component, LivePy, Locked, action
from livepy.convert import check_supported, convert, dump
from livepy.protocol import constants as c
from livepy.testing import LivepyTestError

live = LivePy(templates=[], secret_key="k")


class LockedInvoice(Component):
    template_source = "<div>#{{ invoice_id }} {{ note }} {{ lines }}</div>"
    invoice_id: Locked[int] = 0
    lines: Locked[list[str]] = []
    note: str = ""

    @action
    def renumber(self) -> None:
        self.invoice_id += 100  # server code may still change it


def test_setting_a_locked_field_is_refused_and_undone() -> None:
    test = live.test(LockedInvoice, invoice_id=7)
    with pytest.raises(LivepyTestError) as info:
        test.set_many({"note": "changed", "invoice_id": 8})
    assert info.value.code == c.ERR_LOCKED_FIELD
    assert "LockedInvoice.invoice_id is locked" in info.value.message
    test.assert_set("invoice_id", 7).assert_set("note", "")
    assert test.instance.note == ""  # the whole CALL was undone


def test_even_the_same_value_is_refused() -> None:
    test = live.test(LockedInvoice, invoice_id=7)
    with pytest.raises(LivepyTestError) as info:
        test.set("invoice_id", 7)
    assert info.value.code == c.ERR_LOCKED_FIELD


def test_server_code_may_change_a_locked_field() -> None:
    test = live.test(LockedInvoice, invoice_id=7).call("renumber").assert_see("#107")
    test.set("note", "ok").assert_see("#107 ok")


def test_conversion_sees_through_annotated() -> None:
    hint = Locked[list[int]]
    check_supported(hint, "x")
    check_supported(Annotated[list[Locked[int]], "doc"], "x")
    assert convert(["1", 2], hint) == [1, 2]
    assert dump([3], hint) == [3]
    with pytest.raises(TypeError):
        check_supported(Locked[object], "x")
    field = LockedInvoice.__state_fields__["lines"]
    assert field.annotation == list[str]


@dataclasses.dataclass
class Owned:
    title: str = ""
    owner_id: Locked[int] = 0


@dataclasses.dataclass
class Shelf:
    label: str = ""
    item: Owned = dataclasses.field(default_factory=Owned)


class LockedLibrary(Component):
    template_source = "<div>{{ shelf.item.title }} {{ shelf.item.owner_id }}</div>"
    shelf: Shelf = Shelf()
    count: int = 0


def test_locked_fields_inside_dataclasses() -> None:
    test = live.test(LockedLibrary).set("shelf.item.title", "Dune").assert_see("Dune 0")
    test.set("shelf.label", "sci-fi")
    for name, value in [
        ("shelf.item.owner_id", 5),
        ("shelf.item", {"title": "x", "owner_id": 5}),
        ("shelf", {"label": "", "item": {"title": "", "owner_id": 5}}),
    ]:
        with pytest.raises(LivepyTestError) as info:
            test.set(name, value)
        assert info.value.code == c.ERR_LOCKED_FIELD
        assert "LockedLibrary.shelf.item.owner_id is locked" in info.value.message
    with pytest.raises(LivepyTestError) as info:
        test.set("shelf.nope.deeper", 1)
    assert info.value.code == c.ERR_BAD_UPDATE
    with pytest.raises(LivepyTestError) as info:
        test.set("count.deeper", 1)
    assert info.value.code == c.ERR_BAD_UPDATE
    with pytest.raises(LivepyTestError) as info:
        test.set("missing", 1)
    assert info.value.code == c.ERR_BAD_UPDATE
