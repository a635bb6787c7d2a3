"""Reactive and modelable props: a parent keeps its children's props in step, and back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from livepy import (
    Component,
    ComponentDefinitionError,
    LivePy,
    Modelable,
    Reactive,
    RenderError,
    action,
)
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
from livepy.session import LiveSession
from tests.protocol_client import snapshots_in


@dataclass
class PropsCardData:
    id: int
    title: str


class PropsTitle(Component):
    template_source = "<span>{{ title }}/{{ clicks }}</span>"
    title: Reactive[str] = ""
    clicks: int = 0

    @action
    def click(self) -> None:
        self.clicks += 1


class PropsInput(Component):
    template_source = "<b>{{ value }}</b>"
    value: Modelable[str] = ""

    @action
    def shout(self) -> None:
        self.value = self.value.upper()


class PropsCard(Component):
    template_source = "<li>{{ title }}</li>"
    title: Modelable[str] = ""


class PropsParent(Component):
    template_source = (
        "<div><h1>{{ heading }}</h1><p>{{ draft }}</p>"
        "{{ livepy('props_title', key='t', title=heading) }}"
        "{{ livepy('props_input', key='i', bind='draft') }}"
        "<ul>{% for card in cards %}"
        "{{ livepy('props_card', key=card.id, bind='cards.' ~ loop.index0 ~ '.title') }}"
        "{% endfor %}</ul><i>{{ cards|map(attribute='title')|join(',') }}</i></div>"
    )
    heading: str = "hello"
    draft: str = "start"
    cards: list[PropsCardData] = [PropsCardData(1, "one"), PropsCardData(2, "two")]

    @action
    def rename(self, heading: str) -> None:
        self.heading = heading

    @action
    def clear(self) -> None:
        self.draft = ""

    @action
    def retitle(self, index: int, title: str) -> None:
        self.cards[index].title = title


class Page:
    """An in-process browser: the page's components joined on one session."""

    def __init__(self, live: LivePy, session: LiveSession) -> None:
        self.live = live
        self.session = session
        self.refs: dict[str, int] = {}  # "props_card:2" style names -> ref
        self.html: dict[int, str] = {}
        self.seq = 0

    @classmethod
    async def open(cls, name: str) -> Page:
        live = LivePy(templates=[], secret_key="k")
        page = cls(live, LiveSession(live, client="test"))
        html = live.env.from_string("{{ livepy('" + name + "') }}").render()
        wires = snapshots_in(html)
        names = {}
        for cid, wire in wires.items():
            label = wire[0] if wire[0] != "props_card" else f"props_card:{wire[3]['title']}"
            names[cid] = label
        frames = await page.session.receive(
            encode(Join(tuple(JoinItem(cid, wire) for cid, wire in wires.items())))
        )
        for frame in map(decode_server_frame, frames):
            assert isinstance(frame, Joined), frame
            page.refs[names[frame.cid]] = frame.ref
            page.html[frame.ref] = frame.html
        return page

    async def send(
        self, name: str, updates: dict[str, Any], *calls: tuple[str, tuple[Any, ...]]
    ) -> list[Any]:
        self.seq += 1
        call = Call(self.refs[name], self.seq, updates, calls)
        frames = [decode_server_frame(f) for f in await self.session.receive(encode(call))]
        for frame in frames:
            if isinstance(frame, Reply) and frame.render is not None:
                self.html[frame.ref] = self.session.components[frame.ref].html
        return frames

    def state(self, name: str) -> dict[str, Any]:
        return self.session.components[self.refs[name]].state

    def replied(self, frames: list[Any]) -> list[str]:
        by_ref = {ref: name for name, ref in self.refs.items()}
        return [by_ref[f.ref] for f in frames if isinstance(f, Reply)]


async def test_a_parent_change_reaches_a_reactive_prop_and_keeps_the_rest() -> None:
    page = await Page.open("props_parent")
    await page.send("props_title", {}, ("click", ()))
    frames = await page.send("props_parent", {}, ("rename", ("howdy",)))
    assert page.replied(frames) == ["props_parent", "props_title"]  # in the same request
    assert page.state("props_title") == {"title": "howdy", "clicks": 1}
    assert "<span" in page.html[page.refs["props_title"]]
    assert "howdy/1" in page.session.components[page.refs["props_title"]].html
    # An unrelated parent change does not touch the child.
    frames = await page.send("props_parent", {}, ("clear", ()))
    assert "props_title" not in page.replied(frames)


async def test_the_browser_cannot_set_a_reactive_prop() -> None:
    page = await Page.open("props_parent")
    (frame,) = await page.send("props_title", {"title": "forged"})
    assert isinstance(frame, ErrorFrame) and frame.code == c.ERR_LOCKED_FIELD
    assert "reactive prop" in frame.message
    assert page.state("props_title")["title"] == "hello"


async def test_a_modelable_child_and_its_parent_field_follow_each_other() -> None:
    page = await Page.open("props_parent")
    assert page.state("props_input")["value"] == "start"  # the child starts with the bound value
    frames = await page.send("props_input", {"value": "typed"})
    assert page.replied(frames) == ["props_input", "props_parent"]
    assert page.state("props_parent")["draft"] == "typed"
    frames = await page.send("props_input", {}, ("shout", ()))
    assert page.state("props_parent")["draft"] == "TYPED"
    frames = await page.send("props_parent", {}, ("clear", ()))
    assert page.replied(frames) == ["props_parent", "props_input"]
    assert page.state("props_input")["value"] == ""


async def test_bind_reaches_into_a_list_of_dataclasses() -> None:
    page = await Page.open("props_parent")
    frames = await page.send("props_card:two", {"title": "deux"})
    assert page.replied(frames) == ["props_card:two", "props_parent"]
    assert page.state("props_parent")["cards"] == [
        {"id": 1, "title": "one"},
        {"id": 2, "title": "deux"},
    ]
    assert "<i>one,deux</i>" in page.session.components[page.refs["props_parent"]].html
    frames = await page.send("props_parent", {}, ("retitle", (0, "uno")))
    assert page.replied(frames) == ["props_parent", "props_card:one"]
    assert page.state("props_card:one")["title"] == "uno"


class PropsPlainChild(Component):
    template_source = "<i></i>"


class PropsBadBind(Component):
    template_source = "<div>{{ livepy('props_plain_child', bind='nothing') }}</div>"
    nothing: str = ""


class PropsBadPath(Component):
    template_source = "<div>{{ livepy('props_input', bind='missing') }}</div>"


def test_bad_bindings_are_refused_when_rendering() -> None:
    live = LivePy(templates=[], secret_key="k")
    with pytest.raises(RenderError, match="has no Modelable"):
        live.env.from_string("{{ livepy('props_bad_bind') }}").render()
    with pytest.raises(RenderError, match="no state field 'missing'"):
        live.env.from_string("{{ livepy('props_bad_path') }}").render()
    with pytest.raises(RenderError, match="only in a component's template"):
        live.env.from_string("{{ livepy('props_input', bind='x') }}").render()


def test_definition_errors() -> None:
    with pytest.raises(ComponentDefinitionError, match="only one field can be Modelable"):

        class PropsTwoModels(Component):
            template_source = "<i></i>"
            a: Modelable[str] = ""
            b: Modelable[str] = ""
