"""Streams through livepy.testing: append, prepend, delete, reset, limit, and nothing kept."""

from __future__ import annotations

from typing import Any

import pytest

from livepy import Component, LivePy, action
from livepy.features.streams import STREAM_EFFECT

live = LivePy(templates=[], secret_key="k")

TEMPLATE = """{% macro row(message) %}<li>{{ message.text }}</li>{% endmacro %}
<div><p>{{ sent }} sent</p>
<ul id="log" lp-stream="messages">{{ stream("messages", row) }}</ul></div>"""


class StreamLog(Component):
    template_source = TEMPLATE
    sent: int = 0

    def mount(self) -> None:
        self.stream("messages", [{"id": 1, "text": "first"}, {"id": 2, "text": "second"}])

    @action
    def append(self, text: str) -> None:
        self.sent += 1
        self.stream("messages", [{"id": 100 + self.sent, "text": text}])

    @action
    def prepend(self, text: str) -> None:
        self.sent += 1
        self.stream("messages", [{"id": 100 + self.sent, "text": text}], at="start", limit=3)

    @action
    def remove(self, message_id: int) -> None:
        self.stream_remove("messages", message_id)

    @action
    def clear(self) -> None:
        self.stream("messages", [{"id": 9, "text": "fresh"}], reset=True)

    @action
    def bump(self) -> None:
        self.sent += 1


class StreamForgotten(Component):
    template_source = "<div>{{ sent }}</div>"
    sent: int = 0

    @action
    def send(self) -> None:
        self.stream("messages", [{"id": 1}])
        self.stream_remove("messages", 7)


def stream_effects(t: Any) -> list[Any]:
    return [value for kind, value in t.effects if kind == STREAM_EFFECT]


def test_the_first_render_has_the_items_inline() -> None:
    instance = StreamLog()
    instance.id = "page"
    instance.mount()
    html = live.renderer.render_page_html(instance)
    # The page as served (before the runtime joins) lists the mount-time items, keyed...
    assert '<li lp-key="1">first</li><li lp-key="2">second</li>' in html
    # ...and forgets them: the joined component renders an empty container.
    t = live.test(StreamLog)
    assert 'lp-stream="messages"></ul>' in t.html


def test_append_prepend_delete_reset_limit_are_sent_as_effects() -> None:
    t = live.test(StreamLog)
    t.call("append", "hello")
    assert stream_effects(t)[-1] == {
        "name": "messages",
        "ops": [["insert", "end", [["101", '<li lp-key="101">hello</li>']]]],
        "limit": None,
    }
    t.call("prepend", "top")
    assert stream_effects(t)[-1] == {
        "name": "messages",
        "ops": [["insert", "start", [["102", '<li lp-key="102">top</li>']]]],
        "limit": 3,
    }
    t.call("remove", 101)
    assert stream_effects(t)[-1] == {
        "name": "messages",
        "ops": [["delete", ["101"]]],
        "limit": None,
    }
    t.call("clear")
    assert stream_effects(t)[-1]["ops"] == [
        ["reset"],
        ["insert", "end", [["9", '<li lp-key="9">fresh</li>']]],
    ]
    # The items never reach the component's html or state.
    assert "hello" not in t.html and "top" not in t.html
    t.assert_see("2 sent")


def test_nothing_of_the_items_is_kept() -> None:
    t = live.test(StreamLog)
    t.call("append", "secret words")
    assert "secret words" not in repr(t.state)
    assert all("secret words" not in repr(value) for value in vars(t.instance).values())
    # A later render that streams nothing sends no stream effect.
    before = len(stream_effects(t))
    t.call("bump")
    assert len(stream_effects(t)) == before


def test_a_failed_action_drops_its_stream_ops() -> None:
    class StreamFails(Component):
        template_source = TEMPLATE
        sent: int = 0

        @action
        def boom(self) -> None:
            self.stream("messages", [{"id": 1, "text": "x"}])
            raise RuntimeError("nope")

        @action
        def noop(self) -> None:
            pass

    from livepy.testing import LivepyTestError

    t = live.test(StreamFails)
    with pytest.raises(LivepyTestError):
        t.call("boom")
    t.call("noop")
    assert stream_effects(t) == []


def test_removals_apply_even_when_the_template_renders_no_stream(
    caplog: pytest.LogCaptureFixture,
) -> None:
    t = live.test(StreamForgotten).call("send")
    assert stream_effects(t) == [{"name": "messages", "ops": [["delete", ["7"]]], "limit": None}]
    assert "never called" in caplog.text


def test_bad_arguments_are_refused() -> None:
    instance = StreamLog()
    with pytest.raises(ValueError, match="at= must be"):
        instance.stream("messages", [], at="middle")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="limit"):
        instance.stream("messages", [], limit=0)
    with pytest.raises(ValueError, match="no 'id'"):
        instance.stream("messages", [{"text": "no id"}])
    instance.stream("messages", [{"pk": 3}], key="pk")
    instance.stream("messages", ["a"], key=lambda item: item)
