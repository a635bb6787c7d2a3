"""Following a shared render: a component goes to the render that the same event took the last
component holding its render to, when its fields say it would dump to that render's state.

The check compares fields instead of dumping; these tests hold it to the dump it replaces: for
every pair of values, following gives what the dump-and-lookup path gives, or is refused.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from markupsafe import Markup

from livepy import Component, LivePy
from livepy.fanout import Rendering, SharedRenders
from livepy.protocol.packing import pack_strict

from .test_fanout_sharing import SharingTile, open_pages, until_pushed


class Renderer:
    """Renders a component's fields, so that a different state is a different html."""

    def render_html(self, instance: Component) -> str:
        fields = {name: getattr(instance, name) for name in type(instance).__state_fields__}
        return f'<p lp-id="{instance.id}">{fields!r}</p>'


class Gauge(Component):
    template_source = "<p>{{ reading }}</p>"
    label: str = "gauge"
    reading: int | float | bool | str | list[int] | None = 0
    note: str | None = None


def gauge(cid: str, **fields: Any) -> Gauge:
    instance = Gauge()
    instance.id = cid
    for name, value in fields.items():
        setattr(instance, name, value)
    return instance


def two_renders(shared: SharedRenders, first: Gauge) -> tuple[Rendering, object]:
    """A render that ``first``'s page holds, then ``first`` taken to the next event's render:
    what the next component holding the same render may follow."""
    held = shared.render(Renderer(), gauge("h" * len(first.id)), object())[2]  # type: ignore[arg-type]
    assert held is not None
    event = object()
    shared.render(Renderer(), first, event, held)  # type: ignore[arg-type]
    return held, event


class DumpCounter:
    """Counts the state dumps of a component class."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, cls: type[Component]) -> None:
        self.count = 0
        general = cls.dump_state

        def counted(instance: Component) -> dict[str, Any]:
            self.count += 1
            return general(instance)

        monkeypatch.setattr(cls, "dump_state", counted)


def test_a_component_follows_without_dumping(monkeypatch: pytest.MonkeyPatch) -> None:
    shared = SharedRenders()
    held, event = two_renders(shared, gauge("aaa", reading=7))
    dumps = DumpCounter(monkeypatch, Gauge)
    before = shared.shared
    html, state, rendering = shared.render(Renderer(), gauge("bbb", reading=7), event, held)  # type: ignore[arg-type]
    assert dumps.count == 0 and shared.shared == before + 1
    assert rendering is not None and rendering.event is event and state is rendering.state
    assert html == "<p lp-id=\"bbb\">{'label': 'gauge', 'reading': 7, 'note': None}</p>"
    # another state: the general path, which dumps
    html, state, other = shared.render(Renderer(), gauge("ccc", reading=8), event, held)  # type: ignore[arg-type]
    assert dumps.count == 1 and other is not rendering and state["reading"] == 8


def wire(state: dict[str, Any]) -> Any:
    """What tells states apart on the wire: their strict encoding (types apart), or the types
    and values of one that does not encode (its component is then not shared)."""
    try:
        return pack_strict(state)
    except TypeError:
        return [(type(value), value) for value in state.values()]


FLOAT_NAN = float("nan")
PAIRS: list[tuple[Any, Any]] = [
    (7, 7),
    (1, True),
    (True, 1),
    (1, 1.0),
    (1.0, 1),
    (0.0, -0.0),
    (-0.0, 0.0),
    (0.0, 0.0),
    (2.5, 2.5),
    (FLOAT_NAN, FLOAT_NAN),
    (FLOAT_NAN, float("nan")),
    ("x", "x"),
    ("x", Markup("x")),
    ("1", 1),
    (None, None),
    (None, 0),
    (0, None),
    (2**63 - 1, 2**63 - 1),
]


@pytest.mark.parametrize(("first", "second"), PAIRS, ids=repr)
def test_following_gives_what_the_dump_gives(first: Any, second: Any) -> None:
    """For each pair of values, the second component's render, state and state bytes are the
    ones the dump-and-lookup path gives it."""
    shared = SharedRenders()
    held, event = two_renders(shared, gauge("aaa", reading=first))
    followed = shared.render(Renderer(), gauge("bbb", reading=second), event, held)  # type: ignore[arg-type]
    looked_up = shared.render(Renderer(), gauge("bbb", reading=second), event)  # type: ignore[arg-type]
    assert followed[0] == looked_up[0]
    assert wire(followed[1]) == wire(looked_up[1])
    assert wire(followed[1]) == wire(gauge("bbb", reading=second).dump_state())
    assert followed[2] is looked_up[2]


def test_a_float_zero_or_a_value_that_is_not_plain_is_never_followed() -> None:
    for value in (0.0, [1]):
        shared = SharedRenders()
        held, event = two_renders(shared, gauge("aaa", reading=value))
        before = shared.shared
        shared.render(Renderer(), gauge("bbb", reading=value), event, held)  # type: ignore[arg-type]
        assert shared.shared == before + 1  # shared, but through the lookup
        after = shared._next[held]
        assert after.fields is None  # what following compares with: refused


@pytest.mark.parametrize(
    "difference", ["nothing", "offsets", "children", "attribute", "messages", "class"]
)
def test_what_a_dump_or_render_adds_beyond_the_fields_is_compared(difference: str) -> None:
    """Equal offsets are followed; other offsets, or anything a dump or a render adds beyond
    the fields, take the lookup."""
    from livepy import features
    from livepy.features.validation import errors_of

    shared = SharedRenders()
    first = gauge("aaa", reading=3)
    first.offsets = {"dials": ["e1", 4]}
    held, event = two_renders(shared, first)
    second = gauge("bbb", reading=3)
    second.offsets = {"dials": ["e1", 4]}
    features.begin(second)
    if difference == "offsets":
        second.offsets = {"dials": ["e1", 5]}
    elif difference == "children":
        second.children = {"k": ("child", "ccc", "div")}
    elif difference == "attribute":
        second.extra = 1  # type: ignore[attr-defined]
    elif difference == "messages":
        errors_of(second).add("reading", "Too high.")
    elif difference == "class":

        class OtherGauge(Gauge):
            pass

        second = OtherGauge()
        second.id, second.reading, second.offsets = "bbb", 3, {"dials": ["e1", 4]}
        known = OtherGauge()  # a class whose renders were shared before
        known.id = "ddd"
        shared.render(Renderer(), known, object())  # type: ignore[arg-type]
    after = shared._next[held]
    followed = shared.render(Renderer(), second, event, held)  # type: ignore[arg-type]
    assert (followed[2] is after) == (difference == "nothing")
    assert followed[1] == second.dump_state()
    if difference == "nothing":
        assert followed[1]["$offsets"] == {"dials": ["e1", 4]}


def test_another_event_is_never_followed() -> None:
    shared = SharedRenders()
    held, _ = two_renders(shared, gauge("aaa", reading=3))
    rendering = shared._next[held]
    _, _, other = shared.render(Renderer(), gauge("bbb", reading=3), object(), held)  # type: ignore[arg-type]
    assert other is not rendering and other is not None


def test_the_next_renders_are_bounded() -> None:
    shared = SharedRenders(max_entries=4)
    for n in range(10):
        two_renders(shared, gauge("aaa", reading=n))
    assert len(shared._next) == 4


async def test_pages_follow_the_first_component_and_hold_what_the_server_holds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Three pages of three tiles: after the first push, one component per event dumps; every
    browser still ends with the server's html and a snapshot that verifies."""
    live = LivePy(templates=[], secret_key="k")
    browsers = await open_pages(live, [["everyone"] * 3 for _ in range(3)])
    dumps = DumpCounter(monkeypatch, SharingTile)
    for value in (1, 2, 3, 3, 4):
        dumps.count = 0
        await live.broadcast("sharing", "Tick", {"value": value})
        await until_pushed(browsers, 9)
        for browser in browsers:
            browser.apply()
        if value != 1:  # the first push after a JOIN holds no shared render yet
            assert dumps.count <= 1, value  # (none when the state did not change: the same render)
    assert all(values == [1, 2, 3, 3, 4] for b in browsers for values in b.values.values())
    held = [live_ for browser in browsers for live_ in browser.session.components.values()]
    assert all(live_.state is held[0].state for live_ in held)


def test_nan_is_followed_only_as_the_same_object() -> None:
    shared = SharedRenders()
    held, event = two_renders(shared, gauge("aaa", reading=FLOAT_NAN))
    _, state, _ = shared.render(Renderer(), gauge("bbb", reading=FLOAT_NAN), event, held)  # type: ignore[arg-type]
    assert math.isnan(state["reading"])
