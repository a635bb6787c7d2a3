"""tag_root's shortcut for re-renders: html whose text changed inside the root skips the scan.

The shortcut must never change a result: with the last verified html of the template
remembered, tag_root gives exactly what it gives without it, a tagged html or a RenderError.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from livepy.exceptions import RenderError
from livepy.render import tagging
from livepy.render.tagging import tag_root

ATTRS = {"lp-id": "abc"}


def tagged(html: str) -> str:
    try:
        return tag_root(html, ATTRS, component="c", template="reuse.html")
    except RenderError as exc:
        return f"RenderError: {exc}"


def fresh(html: str) -> str:
    """The result with nothing remembered: the reference."""
    tagging._verified.clear()
    return tagged(html)


def after(previous: str, html: str) -> str:
    """The result once ``previous`` rendered from the same template."""
    tagging._verified.clear()
    tagged(previous)
    return tagged(html)


COUNTER = '<div class="c">\n  <button lp-click="dec">-</button>\n  <b>{}</b>\n</div>'


def test_a_changed_number_reuses_the_verified_tags() -> None:
    tagging._verified.clear()
    tagged(COUNTER.format(3))
    assert tagging._same_tags(tagging._verified["reuse.html"], COUNTER.format(1234)) is not None
    assert after(COUNTER.format(3), COUNTER.format(1234)) == fresh(COUNTER.format(1234))


@pytest.mark.parametrize(
    ("previous", "html"),
    [
        ("<div><b>1</b></div>", "<div><b>1</b></div> text after"),
        ("<div><b>1</b></div>", "text before<div><b>1</b></div>"),
        ("<div><b>1</b></div>", "<div><b>1</b></div><div></div>"),
        ("<div><b>1</b></div>", "<div><b>1</b><!-- </div> --></div>"),
        ("<div><b>1</b></div>", "<div><b>1</b><script>x</script></div>"),
        ("<div><p a=1>x</p></div>", "<div><p a=1/>x</p></div>"),
        ("<div><br>x</div>", "<div><brx>x</div>"),
        ('<div><p a="x>" b="<y">1</p></div>', '<div><p a="x>" b="<y"">1</p></div>'),
        ('<div title="a">1</div>', '<div title="a">1</div><p>'),
        ("<input value=1>", "<input value=12>"),
        ("<input value=1>", "<input value=1>x"),
        ("<div>1</div>", "<div>1</div>"),
        ("<div>1</div>", "<div>2</div>"),
        ("<div><br a=<>1</div>", "<div><brx a=<>1</div>"),  # an unquoted < inside a tag
        ("<div><p a=<>1</p></div>", "<div></p a=<>1</p></div>"),
        ('<div><p a="> <">1</p></div>', '<div><p a="> "/<">1</p></div>'),  # a quote added
        ('<div><p a="> <">1</p></div>', '<div><p a="> /><">1</p></div>'),
    ],
)
def test_the_shortcut_gives_what_a_scan_gives(previous: str, html: str) -> None:
    assert after(previous, html) == fresh(html)


@pytest.mark.parametrize(
    ("previous", "html"),
    [
        ('<div><p a="x>1">t</p></div>', '<div><p a="x>2t</p></div>'),  # a tag's end removed
        ('<div><p a="> <">1</p></div>', '<div><p a="> "<">1</p></div>'),  # a quote added
        ("<div><p a=<>1</p></div>", "<div></p a=<>1</p></div>"),  # inside a tag
        ("<div>1</div>", " x <div>1</div>"),  # before the root
        ("<div>1</div>", "<div>1</div> x"),  # after the root
    ],
)
def test_changes_that_could_touch_tags_are_scanned(previous: str, html: str) -> None:
    tagging._verified.clear()
    tagged(previous)
    assert tagging._same_tags(tagging._verified["reuse.html"], html) is None


PIECES = [
    "<div>",
    "</div>",
    "<p>",
    "</p>",
    "<br>",
    "<img/>",
    '<p a="x>y">',
    "<p a='<'>",
    '<p a="> <">',
    "<br a=<>",
    "<p a=<>",
    "<x-y/>",
    "<!-- c -->",
    "<script>a<b</script>",
    "text",
    " ",
    "\n",
    "1",
    "<",
    ">",
    '"',
    "'",
    "/",
    "=",
]
markup = st.lists(st.sampled_from(PIECES), max_size=12).map("".join)
change = st.text(alphabet=st.sampled_from(list("ab1 <>/\"'=!-\n")), max_size=4)


@settings(max_examples=600, deadline=None)
@given(
    inner=markup,
    start=st.integers(min_value=0, max_value=200),
    length=st.integers(min_value=0, max_value=4),
    text=change,
    wrap=st.booleans(),
)
def test_any_edit_of_a_verified_html_is_judged_as_a_scan_judges_it(
    inner: str, start: int, length: int, text: str, wrap: bool
) -> None:
    previous = f"<div>{inner}</div>" if wrap else inner
    at = min(start, len(previous))
    html = previous[:at] + text + previous[at + length :]
    assert after(previous, html) == fresh(html)
