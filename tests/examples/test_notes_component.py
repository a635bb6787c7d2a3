"""The notes example's components through livepy.testing, without a browser."""

from __future__ import annotations

import pytest

from livepy.demo import load_example
from livepy.protocol import constants as c
from livepy.testing import LivepyTestError


def test_load_save_delete_tell_the_stats() -> None:
    notes = load_example("notes")
    test = notes.live.test(notes.NoteEditor).assert_see("Loading notes")
    test.call("load").assert_see("Buy tea").assert_dont_see("Loading notes")
    test.assert_dispatched("notes-changed", count=2, words=7)
    test.set("draft", "  Water the plants ").call("save").assert_see("Saved.")
    test.assert_set("draft", "").assert_dispatched("notes-changed", count=3, words=10)
    test.call("delete", "1").assert_dont_see("Buy tea").assert_dont_see("Saved.")
    test.set("draft", "   ").call("save").assert_dont_see("Saved.")
    assert [note["text"] for note in test.state["notes"]] == [
        "Call Ada about the launch",
        "Water the plants",
    ]


def test_the_browser_cannot_pick_ids_or_fail_quietly() -> None:
    notes = load_example("notes")
    test = notes.live.test(notes.NoteEditor)
    with pytest.raises(LivepyTestError) as refused:
        test.set("next_id", 1)
    assert refused.value.code == c.ERR_LOCKED_FIELD
    with pytest.raises(LivepyTestError) as failed:
        test.call("fail")
    assert failed.value.code == c.ERR_COMPONENT_ERROR
    assert "failed on purpose" in failed.value.message  # debug=True: the text reaches the page


def test_stats_follow_the_event() -> None:
    notes = load_example("notes")
    stats = notes.live.test(notes.NoteStats).assert_see("0 notes")
    stats.dispatch("notes-changed", count="3", words="8").assert_see("3 notes, 8 words")
