"""The rollback point of a change (livepy.rollback): restoring it gives back the state the
component had, on the plain-scalar path and on the full-dump path alike."""

from livepy import Component
from livepy.features.validation import errors_of
from livepy.rollback import _Scalars, restore, rollback_point


class ScalarTile(Component):
    template_source = "<div>{{ title }} {{ count }}</div>"
    title: str = "t"
    count: int = 0
    ratio: float = 0.5
    live: bool = False


class ListTile(Component):
    template_source = "<div>{{ items }}</div>"
    count: int = 0
    items: list[str] = []


def test_plain_scalars_are_restored_with_offsets_and_errors() -> None:
    tile = ScalarTile()
    tile.count, tile.title = 3, "before"
    tile.offsets = {"news": ["epoch", 4]}
    errors_of(tile).add("title", "too short")
    expected = tile.dump_state()
    point = rollback_point(tile)
    assert isinstance(point, _Scalars)  # the fast path was taken
    tile.count, tile.title, tile.ratio, tile.live = 9, "after", 2.0, True
    tile.offsets["news"][1] = 5  # even an in-place edit of the offsets is undone
    tile.offsets["other"] = ["e", 1]
    errors_of(tile).add("count", "bad")
    restore(tile, point)
    assert tile.dump_state() == expected


def test_a_list_field_takes_the_full_dump_and_undoes_in_place_edits() -> None:
    tile = ListTile()
    tile.items = ["a"]
    expected = tile.dump_state()
    point = rollback_point(tile)
    assert isinstance(point, dict)
    tile.items.append("b")
    tile.count = 7
    restore(tile, point)
    assert tile.dump_state() == expected
    assert tile.items == ["a"]


def test_a_huge_int_takes_the_full_dump_and_its_error() -> None:
    tile = ScalarTile()
    tile.count = 2**70
    try:
        rollback_point(tile)
    except TypeError as exc:
        assert "64-bit" in str(exc)
    else:
        raise AssertionError("the dump's range check did not run")
