"""Render diffs and state patches: applying the diff to the old value gives exactly the new."""

from __future__ import annotations

import copy
from typing import Any

import jinja2
import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from livepy.protocol import apply_diff, apply_ops, checksum, diff_html, diff_state

texts = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60)


@given(texts, texts)
def test_html_diff_applies_exactly(old: str, new: str) -> None:
    diff = diff_html(old, new)
    if diff is not None:
        assert apply_diff(old, diff) == new


@given(st.lists(texts, max_size=30), st.data())
def test_html_diff_of_edited_token_lists(tokens: list[str], data: st.DataObject) -> None:
    old = "<ul>" + "".join(f"<li>{t}</li>" for t in tokens) + "</ul>"
    edited = list(tokens)
    for _ in range(data.draw(st.integers(0, 4))):
        action = data.draw(st.sampled_from(["insert", "delete", "change"]))
        if action == "insert" or not edited:
            edited.insert(data.draw(st.integers(0, len(edited))), data.draw(texts))
        elif action == "delete":
            edited.pop(data.draw(st.integers(0, len(edited) - 1)))
        else:
            edited[data.draw(st.integers(0, len(edited) - 1))] = data.draw(texts)
    new = "<ul>" + "".join(f"<li>{t}</li>" for t in edited) + "</ul>"
    diff = diff_html(old, new)
    assert diff is None or apply_diff(old, diff) == new


TEMPLATE_PARTS = [
    "<p>{{ a }}</p>",
    "{% if flag %}<b>{{ b }}</b>{% else %}<i>no</i>{% endif %}",
    "{% for x in items %}<li lp-key='{{ loop.index }}'>{{ x }}</li>{% endfor %}",
    "<span title='{{ b }}'>{{ a }} and {{ b }}</span>",
    "<table>{% for row in rows %}<tr>{% for cell in row %}<td>{{ cell }}</td>{% endfor %}"
    "</tr>{% endfor %}</table>",
]
env = jinja2.Environment(autoescape=True)
state_strategy = st.fixed_dictionaries(
    {
        "a": texts,
        "b": st.integers(),
        "flag": st.booleans(),
        "items": st.lists(texts, max_size=8),
        "rows": st.lists(st.lists(st.integers(-5, 500), min_size=3, max_size=3), max_size=6),
    }
)


@settings(max_examples=150)
@given(
    st.lists(st.sampled_from(TEMPLATE_PARTS), min_size=1, max_size=5),
    state_strategy,
    state_strategy,
)
def test_random_templates_and_state_changes(parts: list[str], before: Any, after: Any) -> None:
    template = env.from_string("<div>" + "".join(parts) + "</div>")
    old, new = template.render(before), template.render(after)
    diff = diff_html(old, new)
    assert diff is None or apply_diff(old, diff) == new


def test_counter_diff_is_tiny() -> None:
    old = '<div lp-id="abcdefgh" class="card"><button>-</button><strong>7</strong></div>'
    new = old.replace("7", "8")
    assert diff_html(old, new) == [checksum(new), old.index("7"), 1, "8"]


def test_non_bmp_positions_are_utf16_units() -> None:
    old = "<p>😀 1</p>"
    new = "<p>😀 2</p>"
    diff = diff_html(old, new)
    assert diff is not None and diff[1] == len("<p>😀 ".encode("utf-16-le")) // 2
    assert apply_diff(old, diff) == new


def test_whole_html_when_diff_is_not_smaller() -> None:
    assert diff_html("<p>a</p>", "<div>completely different</div>") is None


plain = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | texts,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(texts, inner, max_size=5),
    max_leaves=20,
)
states = st.dictionaries(st.sampled_from(["a", "b", "c", "d"]), plain)


def typed(value: Any) -> Any:
    if isinstance(value, dict):
        return sorted((k, typed(v)) for k, v in value.items())
    if isinstance(value, list):
        return [typed(v) for v in value]
    return (type(value).__name__, value)


@given(states, states)
def test_state_patch_applies_exactly(old: dict[str, Any], new: dict[str, Any]) -> None:
    ops = diff_state(old, new)
    result = apply_ops(copy.deepcopy(old), copy.deepcopy(ops))
    # Equal, types included (1 vs 1.0 vs True); map key order is not part of the state.
    assert typed(result) == typed(new)


def test_state_patch_of_one_cell_is_one_op() -> None:
    rows = [{"id": i, "qty": i} for i in range(200)]
    new_rows = copy.deepcopy(rows)
    new_rows[57]["qty"] = 1000
    assert diff_state({"rows": rows}, {"rows": new_rows}) == [[["rows", 57, "qty"], 1000]]


def test_state_patch_of_an_append_is_one_splice() -> None:
    rows = list(range(200))
    assert diff_state({"rows": rows}, {"rows": [*rows, 200]}) == [[["rows"], 200, 0, [200]]]


def test_an_appended_row_is_sent_as_copies_of_its_neighbour() -> None:
    row = '  <li lp-key="{0}"><strong>Item number {0}</strong> <small>by {1}</small></li>\n'
    names = ["Ada Lovelace", "Grace Hopper", "Alan Turing"]
    old = "<ul>" + "".join(row.format(i, names[i % 3]) for i in range(200)) + "</ul>"
    new_row = row.format(200, "Edsger Dijkstra")
    new = old[:-5] + new_row + "</ul>"
    diff = diff_html(old, new)
    assert diff is not None and apply_diff(old, diff) == new
    (_, pos, deleted, insert) = diff
    assert (pos, deleted) == (len(old) - 5, 0)
    assert isinstance(insert, list) and "Edsger Dijkstra" in insert
    assert len(msgpack.packb(diff)) < len(new_row) * 2 // 3


def test_a_copy_that_does_not_fit_is_refused() -> None:
    with pytest.raises(ValueError, match="does not fit"):
        apply_diff("<p>abc</p>", [0, 3, 0, ["x", 8, 10]])
