"""Lazy components, server half: a placeholder with signed props, then mount() on join."""

from __future__ import annotations

import asyncio
import datetime
import re
from typing import Annotated, Any

import msgpack
import pytest
from starlette.requests import Request

from livepy import Component, LivePy, Modelable, Url, action, url
from livepy.exceptions import RenderError
from livepy.features.lazy import LAZY_KEY, LOADING_TEXT
from livepy.protocol import constants as c
from livepy.protocol.frames import (
    Call,
    ErrorFrame,
    Join,
    Joined,
    JoinItem,
    Reply,
    decode_server_frame,
    encode,
)
from livepy.protocol.snapshot import b64decode
from livepy.protocol.statepatch import apply_ops
from livepy.session import LiveSession

live = LivePy(templates=[], secret_key="k" * 32)
MOUNTS: list[dict[str, Any]] = []


class SlowReport(Component):
    template_source = "{# a report #}\n<section class='report'>{{ year }}: {{ total }}</section>"
    year: int
    total: int = 0

    def mount(self, year: int, scale: int = 1) -> None:
        MOUNTS.append({"year": year, "scale": scale})
        self.year = year
        self.total = year * scale

    @action
    def double(self) -> None:
        self.total *= 2


class CustomPlaceholder(Component):
    template_source = "<ul><li>{{ n }}</li></ul>"
    n: int = 0

    def placeholder(self, **props: Any) -> str:
        return f"<ul><li class='skeleton'>loading {props['n']}</li></ul>"


class TemplatePlaceholder(Component):
    template_source = "<p>{{ n }}</p>"
    placeholder_template = "lazy_spinner.html"
    n: int = 0


def page(source: str, target: LivePy = live) -> str:
    return target.env.from_string(source).render()


def snapshot_of(html: str) -> tuple[str, list[Any]]:
    cid = re.search(r'lp-id="([^"]+)"', html)
    snap = re.search(r'lp-snapshot="([^"]+)"', html)
    assert cid is not None and snap is not None
    return cid.group(1), msgpack.unpackb(b64decode(snap.group(1)), raw=False)


async def join_wire(
    cid: str, wire: list[Any], target: LivePy = live
) -> tuple[LiveSession, list[Any]]:
    session = LiveSession(target)
    frames = await session.receive(encode(Join((JoinItem(cid, wire),))))
    return session, [decode_server_frame(frame) for frame in frames]


def join(html: str, target: LivePy = live) -> tuple[LiveSession, list[Any], list[Any]]:
    cid, wire = snapshot_of(html)
    session, frames = asyncio.run(join_wire(cid, wire, target))
    return session, wire, frames


@pytest.fixture(autouse=True)
def _clear_mounts() -> None:
    MOUNTS.clear()


def test_placeholder_has_the_root_tag_a_loading_text_and_no_mount() -> None:
    html = page("{{ livepy('slow_report', lazy=True, year=2024, scale=3) }}")
    assert html.startswith("<section lp-id=")
    assert LOADING_TEXT in html
    assert "2024:" not in html
    assert MOUNTS == []
    _, wire = snapshot_of(html)
    assert wire[3] == {LAZY_KEY: {"year": 2024, "scale": 3}}
    assert 'lp-lazy="visible"' not in html


def test_join_mounts_with_the_props_and_patches_the_snapshot() -> None:
    html = page("{{ livepy('slow_report', lazy=True, year=2024, scale=3) }}")
    session, wire, frames = join(html)
    assert MOUNTS == [{"year": 2024, "scale": 3}]
    joined = frames[0]
    assert isinstance(joined, Joined)
    assert "2024: 6072" in joined.html
    assert joined.patch is not None
    state = apply_ops(wire[3], joined.patch[1])
    assert state == {"year": 2024, "total": 6072}
    # the component is live: an action works from the mounted state
    live_component = session.components[joined.ref]
    assert live_component.instance.total == 6072


def test_a_rejoin_with_the_patched_snapshot_does_not_mount_again() -> None:
    html = page("{{ livepy('slow_report', lazy=True, year=2000) }}")
    _, wire, frames = join(html)
    joined = frames[0]
    assert isinstance(joined, Joined) and joined.patch is not None
    issued_at, ops, mac = joined.patch
    patched = [wire[0], wire[1], issued_at or wire[2], apply_ops(wire[3], ops), mac]
    _, frames = asyncio.run(join_wire(wire[1], patched))
    again = frames[0]
    assert isinstance(again, Joined)
    assert again.patch is None
    assert MOUNTS == [{"year": 2000, "scale": 1}]


def test_tampered_props_are_refused() -> None:
    html = page("{{ livepy('slow_report', lazy=True, year=2024) }}")
    cid, wire = snapshot_of(html)
    wire[3] = {LAZY_KEY: {"year": 1}}
    _, frames = asyncio.run(join_wire(cid, wire))
    error = frames[0]
    assert isinstance(error, ErrorFrame)
    assert error.code == c.ERR_SNAPSHOT_INVALID
    assert MOUNTS == []


def test_a_mount_failure_on_join_is_a_component_error() -> None:
    html = page("{{ livepy('slow_report', lazy=True, month=3) }}")  # no such prop
    _, _, frames = join(html)
    assert isinstance(frames[0], ErrorFrame)
    assert frames[0].code == c.ERR_COMPONENT_ERROR


def test_visible_mode_marks_the_root() -> None:
    html = page("{{ livepy('slow_report', lazy='visible', year=1) }}")
    assert 'lp-lazy="visible"' in html


def test_a_bad_lazy_value_is_refused() -> None:
    with pytest.raises(RenderError, match="True or 'visible'"):
        page("{{ livepy('slow_report', lazy='soon', year=1) }}")


def test_props_that_cannot_travel_are_refused_with_their_name() -> None:
    when = datetime.datetime(2024, 1, 1)
    with pytest.raises(RenderError, match="prop 'year'"):
        live.env.from_string("{{ livepy('slow_report', lazy=True, year=when) }}").render(when=when)


def test_a_placeholder_method_replaces_the_default() -> None:
    html = page("{{ livepy('custom_placeholder', lazy=True, n=4) }}")
    assert "class='skeleton'>loading 4" in html
    assert html.startswith("<ul lp-id=")
    _, _, frames = join(html)
    assert isinstance(frames[0], Joined) and "<li>4</li>" in frames[0].html


def test_a_placeholder_template_replaces_the_default(tmp_path: Any) -> None:
    (tmp_path / "lazy_spinner.html").write_text("<p class='spin'>wait for {{ n }}</p>")
    with_templates = LivePy(templates=[tmp_path], secret_key="k" * 32)
    html = page("{{ livepy('template_placeholder', lazy=True, n=9) }}", with_templates)
    assert "<p class='spin' lp-id=" in html or "<p lp-id=" in html
    assert "wait for 9" in html


def test_a_lazy_child_is_remembered_by_its_parent() -> None:
    class Shelf(Component):
        template_source = "<div>{{ livepy('slow_report', lazy=True, key='r', year=7) }}</div>"
        label: str = ""

        @action
        def rename(self) -> None:
            self.label = "x"

    t = live.test(Shelf)
    assert "<section lp-id=" in t.html  # the stub keeps the placeholder's root tag
    t.call("rename")  # the parent re-renders: the child is kept, not rendered again
    assert MOUNTS == []


# -- lazy components and the other features ---------------------------------------------------

ROOTS = re.compile(r'lp-id="([^"]+)"[^>]*? lp-snapshot="([^"]+)"')


def wires_in(html: str) -> dict[str, list[Any]]:
    """cid -> snapshot, for every component root (placeholders too) in ``html``."""
    return {cid: msgpack.unpackb(b64decode(text), raw=False) for cid, text in ROOTS.findall(html)}


async def join_all(session: LiveSession, html: str) -> list[Any]:
    items = tuple(JoinItem(cid, wire) for cid, wire in wires_in(html).items())
    return [decode_server_frame(frame) for frame in await session.receive(encode(Join(items)))]


class LazyInput(Component):
    template_source = "<b>{{ value }}</b>"
    value: Modelable[str] = ""

    @action
    def shout(self) -> None:
        self.value = self.value.upper()


class LazyHolder(Component):
    template_source = (
        "<div><p>{{ draft }}</p>{% if shown %}"
        "{{ livepy('lazy_input', lazy=True, key='i', bind='draft') }}{% endif %}</div>"
    )
    draft: str = "from parent"
    shown: bool = True

    @action
    def show(self) -> None:
        self.shown = True


def test_a_lazy_child_starts_with_its_parents_bound_value() -> None:
    html = page("{{ livepy('lazy_holder') }}")

    async def scenario() -> list[Any]:
        return await join_all(LiveSession(live), html)

    frames = asyncio.run(scenario())
    child = [f for f in frames if isinstance(f, Joined) and f.html.startswith("<b")]
    assert len(child) == 1 and "<b" in child[0].html
    assert "from parent</b>" in child[0].html


def test_a_lazy_child_a_live_parent_adds_is_tracked_for_bind() -> None:
    async def scenario() -> tuple[LiveSession, list[Any]]:
        session = LiveSession(live)
        (parent,) = await join_all(session, page("{{ livepy('lazy_holder', shown=False) }}"))
        assert isinstance(parent, Joined)
        call = Call(parent.ref, 1, {}, (("show", ()),))
        await session.receive(encode(call))
        # The live parent's render now holds the placeholder: the browser joins it.
        (child,) = await join_all(session, session.components[parent.ref].html)
        assert isinstance(child, Joined) and "from parent</b>" in child.html
        frames = await session.receive(encode(Call(child.ref, 1, {}, (("shout", ()),))))
        return session, [decode_server_frame(frame) for frame in frames]

    session, frames = asyncio.run(scenario())
    (parent,) = [c for c in session.components.values() if type(c.instance) is LazyHolder]
    pushed = [f for f in frames if isinstance(f, Reply) and f.ref == parent.ref]
    assert pushed, "the parent should follow its lazy child's bound field"
    assert parent.instance.draft == "FROM PARENT"


class LazySearch(Component):
    template_source = "<p>{{ search }}/{{ page }}</p>"
    search: Url[str] = ""
    page: Annotated[int, url(as_="p")] = 1


def test_url_fields_of_a_lazy_component_come_from_the_page_query() -> None:
    request = Request(
        {
            "type": "http",
            "method": "GET",
            "path": "/shop",
            "headers": [],
            "query_string": b"search=shoes&p=3",
        }
    )
    html = live.env.from_string("{{ livepy('lazy_search', lazy=True) }}").render(request=request)
    assert "shoes" not in html.split("lp-snapshot")[0]  # the placeholder has not mounted
    session, _, frames = join(html)
    joined = frames[0]
    assert isinstance(joined, Joined)
    assert ">shoes/3</p>" in joined.html
    instance = session.components[joined.ref].instance
    assert (instance.search, instance.page) == ("shoes", 3)


def test_a_lazy_placeholder_without_a_query_keeps_no_page() -> None:
    request = Request(
        {"type": "http", "method": "GET", "path": "/", "headers": [], "query_string": b""}
    )
    html = live.env.from_string("{{ livepy('lazy_search', lazy=True) }}").render(request=request)
    _, wire = snapshot_of(html)
    assert wire[3] == {LAZY_KEY: {}}


class LazyGreeter(Component):
    template_source = "<p>{{ who }}</p>"
    who: str = ""

    def mount(self, who: str) -> None:
        self.who = who
        self.dispatch("greeted", who=who)
        self.flash(f"Hello {who}")


def test_effects_of_a_lazy_mount_follow_the_joined() -> None:
    html = page("{{ livepy('lazy_greeter', lazy=True, who='Ann') }}")
    _, _, frames = join(html)
    joined, reply = frames
    assert isinstance(joined, Joined) and ">Ann</p>" in joined.html
    assert isinstance(reply, Reply) and reply.ref == joined.ref
    assert reply.render is None and reply.patch is None
    assert reply.effects is not None
    assert reply.effects["dispatch"] == [{"name": "greeted", "params": {"who": "Ann"}}]
    assert len(reply.effects["flash"]) == 1


def test_a_join_that_queues_nothing_sends_only_the_joined() -> None:
    html = page("{{ livepy('slow_report', lazy=True, year=1) }}")
    _, _, frames = join(html)
    assert len(frames) == 1 and isinstance(frames[0], Joined)
