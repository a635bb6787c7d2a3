"""Nested components: a parent re-render neither re-renders nor resends unchanged children."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from websockets.asyncio.client import connect

from livepy import Component, LivePy, RenderError, action
from livepy.protocol import Reply
from tests.conftest import ServeFactory, page_app
from tests.protocol_client import ProtocolClient, snapshots_in

RENDERS: list[str] = []


class NestChild(Component):
    template_source = "<li>{{ label }}: {{ clicks }}</li>"
    label: str = ""
    clicks: int = 0

    def mount(self, label: str = "") -> None:
        RENDERS.append(label)
        self.label = label

    @action
    def click(self) -> None:
        self.clicks += 1


class NestParent(Component):
    template_source = (
        "<div><h1>{{ title }}</h1><ul>"
        "{% for item in items %}{{ livepy('nest_child', key=item, label=item) }}{% endfor %}"
        "</ul></div>"
    )
    title: str = "list"
    items: list[str] = ["a", "b"]

    @action
    def rename(self, title: str) -> None:
        self.title = title

    @action
    def add(self, item: str) -> None:
        self.items.append(item)

    @action
    def drop(self, item: str) -> None:
        self.items.remove(item)


class NestTwins(Component):
    template_source = (
        "<div>{{ livepy('nest_child', key=1) }}{{ livepy('nest_child', key=1) }}</div>"
    )


@pytest_asyncio.fixture
async def client(serve: ServeFactory) -> AsyncIterator[ProtocolClient]:
    live = LivePy(templates=[], secret_key="k")
    app = page_app(live, "nest_parent")
    server = await serve(app)
    async with connect(server.ws_url + "/livepy/ws") as ws:
        client = ProtocolClient(ws)
        html = await client.load(server.url + "/")
        assert len(snapshots_in(html)) == 3  # the parent and both children carry snapshots
        client.live = live  # type: ignore[attr-defined]
        yield client


async def test_parent_update_does_not_resend_children(client: ProtocolClient) -> None:
    (joined,) = await client.join("nest_parent")
    parent = client.held["nest_parent"]
    children = parent.state["$children"]
    assert set(children) == {"a", "b"}
    for _, cid, tag in children.values():
        assert f'<{tag} lp-id="{cid}"></{tag}>' in joined.html  # stubs, not renders
    RENDERS.clear()
    reply = await client.call("nest_parent", ("rename", ("renamed",)))
    assert isinstance(reply, Reply) and isinstance(reply.render, list)
    assert "a:" not in str(reply.render) and RENDERS == []
    assert "<h1>renamed</h1>" in parent.html


async def test_new_child_arrives_whole_and_removed_child_goes(client: ProtocolClient) -> None:
    await client.join("nest_parent")
    parent = client.held["nest_parent"]
    await client.call("nest_parent", ("add", ("c",)))
    assert RENDERS[-1] == "c"
    new = snapshots_in(parent.html)
    assert [wire[0] for wire in new.values()] == ["nest_child"]  # only the new child, whole
    await client.call("nest_parent", ("drop", ("a",)))
    assert set(parent.state["$children"]) == {"b", "c"}
    client.verify("nest_parent", client.live.snapshots)  # type: ignore[attr-defined]


async def test_child_updates_alone(client: ProtocolClient) -> None:
    await client.join("nest_parent", "nest_child")
    reply = await client.call("nest_child", ("click", ()))
    assert isinstance(reply, Reply)
    assert ": 1</li>" in client.held["nest_child"].html


def test_duplicate_keys_are_refused() -> None:
    live = LivePy(templates=[], secret_key="k")
    with pytest.raises(RenderError, match="two children with key '1'"):
        live.env.from_string("{{ livepy('nest_twins') }}").render()
