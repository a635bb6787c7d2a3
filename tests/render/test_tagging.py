import pytest

from livepy import RenderError
from livepy.render import tag_root


def tag(html: str) -> str:
    return tag_root(html, {"lp-id": "abc"}, component="counter", template="counter.html")


def test_root_is_tagged() -> None:
    assert tag("<div class='x'>1</div>") == "<div lp-id=\"abc\" class='x'>1</div>"


def test_leading_whitespace_and_comments_are_fine() -> None:
    assert tag("\n  <!-- c -->\n<section>1</section>\n").startswith(
        "\n  <!-- c -->\n<section lp-id"
    )


def test_void_and_nested_elements() -> None:
    assert tag("<div><br><img src=x><p>a</p></div>").startswith('<div lp-id="abc">')
    assert tag("<input value=1>") == '<input lp-id="abc" value=1>'


def test_attribute_values_are_escaped() -> None:
    html = tag_root("<div></div>", {"lp-id": '"><script>'}, component="c", template="t")
    assert html == '<div lp-id="&quot;&gt;&lt;script&gt;"></div>'


@pytest.mark.parametrize(
    ("html", "found"),
    [
        ("", "no element"),
        ("just text", "no element"),
        ("<div></div><div></div>", "2 top-level elements"),
        ("<div></div> tail", "text outside the root element"),
        ("lead <div></div>", "text outside"),
    ],
)
def test_not_exactly_one_root_is_refused(html: str, found: str) -> None:
    with pytest.raises(RenderError) as info:
        tag(html)
    message = str(info.value)
    assert "'counter'" in message and "counter.html" in message and found in message


def test_quoted_angle_brackets_raw_text_and_self_closing() -> None:
    html = (
        "<div title='a>b' data-x=\"<p>\"><script>if (a < b && c > d) {}</script><br/><x-y/></div>"
    )
    assert tag(html).startswith('<div lp-id="abc" title=')
    assert tag("<svg><path d='M0 0'/></svg>").startswith('<svg lp-id="abc">')
    assert tag("<Div>1</DIV>") == '<Div lp-id="abc">1</DIV>'


@pytest.mark.parametrize(
    "html",
    ["<div></div><script>x</script>", "<div></div>&nbsp;", "<p>1</p>\n<p>2</p>", "<br><br>"],
)
def test_more_shapes_that_are_not_one_root(html: str) -> None:
    with pytest.raises(RenderError):
        tag(html)


@pytest.mark.parametrize(
    "html",
    [
        "<div><p>a</p><br><img src='x/'><x-y/></div>",
        "<div title='a>b'><span>1</span></div>",
        "\n  <ul>\n<li>1</li>\n<li>2</li>\n</ul>\n",
        "<div><!-- c --><script>if (a < b) {}</script></div>",
    ],
)
def test_fast_and_full_scans_agree(html: str) -> None:
    from livepy.render.tagging import _tag_root_scan

    attrs = {"lp-id": "abc"}
    assert tag_root(html, attrs, component="c", template="t") == _tag_root_scan(
        html, attrs, component="c", template="t"
    )
