"""The dump each component class gets (livepy.statedump) is the general dump in every outcome:
the same keys in the same order, the same values, the same errors."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from livepy import Component
from livepy.features.validation import errors_of
from livepy.statedump import is_compiled


@dataclasses.dataclass
class Point:
    x: int
    y: int


class Mixed(Component):
    template_source = "<div></div>"
    title: str = "t"
    count: int = 0
    ratio: float = 0.5
    live: bool = False
    tags: list[str] = []
    point: Point = Point(1, 2)
    maybe: int | None = None


class MoreMixed(Mixed):
    extra: int = 7


class SetInMount(Component):
    template_source = "<div></div>"
    count: int = 0
    title: str


class Stateless(Component):
    template_source = "<div></div>"


class OwnDump(Component):
    template_source = "<div></div>"
    count: int = 0

    def dump_state(self) -> dict[str, Any]:
        return {"count": self.count, "own": True}


class InheritsOwnDump(OwnDump):
    more: int = 1


def same_dump(instance: Component) -> dict[str, Any]:
    """The class's dump, which must equal the general one, key order included."""
    dumped = type(instance).dump_state(instance)
    general = Component.dump_state(instance)
    assert dumped == general and list(dumped) == list(general)
    return dumped


def same_error(instance: Component) -> str:
    with pytest.raises(TypeError) as dumped:
        type(instance).dump_state(instance)
    with pytest.raises(TypeError) as general:
        Component.dump_state(instance)
    assert str(dumped.value) == str(general.value)
    return str(dumped.value)


def test_classes_get_their_own_dump_unless_they_write_one() -> None:
    assert is_compiled(Mixed.dump_state) and is_compiled(MoreMixed.dump_state)
    assert Mixed.dump_state is not MoreMixed.dump_state  # each for its own fields
    assert "extra" in MoreMixed().dump_state()
    assert same_dump(Stateless()) == {}
    assert not is_compiled(OwnDump.dump_state)
    assert InheritsOwnDump.dump_state is OwnDump.dump_state
    assert InheritsOwnDump().dump_state() == {"count": 0, "own": True}


def test_values_of_their_annotations_type_and_others_dump_as_the_general_dump() -> None:
    tile = MoreMixed()
    assert same_dump(tile)["point"] == {"x": 1, "y": 2}
    tile.title, tile.count, tile.ratio, tile.live = "é" * 3, -(2**63), 1e300, True
    same_dump(tile)
    # values that are not their annotation's type: the general per-value path
    tile.count, tile.ratio, tile.live, tile.title = True, 3, 1, 2.5  # type: ignore[assignment]
    assert same_dump(tile)["count"] is True
    tile.maybe, tile.tags = 2**63 - 1, ["a", "b"]
    same_dump(tile)


def test_children_offsets_and_validation_messages_ride_as_in_the_general_dump() -> None:
    tile = Mixed()
    tile.children = {"k": ("child", "c1", "div")}
    tile.offsets = {"news": ["epoch", 4], "other": ["e", 1]}
    errors_of(tile).add("title", "too short")
    dumped = same_dump(tile)
    assert dumped["$offsets"] == {"news": ["epoch", 4], "other": ["e", 1]}
    assert dumped["$offsets"]["news"] is not tile.offsets["news"]  # a copy, as before


def test_a_value_out_of_range_or_missing_is_the_same_error() -> None:
    tile = Mixed()
    tile.count = 2**63
    assert "64-bit" in same_error(tile)
    tile.count, tile.tags = 1, [object()]  # type: ignore[list-item]
    same_error(tile)
    assert "SetInMount.title has no value" in same_error(SetInMount())
