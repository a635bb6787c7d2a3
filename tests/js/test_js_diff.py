"""js/diff.js: the table-driven CRC-32 and render diffs, checked against Python's zlib and the
server's own diff engine (livepy.protocol.htmldiff)."""

from __future__ import annotations

import zlib
from typing import Any

import pytest

from livepy.protocol.htmldiff import diff_html

pytestmark = pytest.mark.browser

IMPORT = "const d = await import('/js/diff.js');"

TEXTS = [
    "",
    "a",
    "123456789",  # the CRC-32 check value is 0xCBF43926
    "<div lp-id='c1'><span>7</span></div>",
    "é漢🙂 — ünïcödé",
    "x" * 5000,
]


async def js(page: Any, body: str, arg: Any = None) -> Any:
    return await page.evaluate(f"async (arg) => {{ {IMPORT} {body} }}", arg)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def make_diff(old: str, new: str) -> list[Any]:
    """One edit from common prefix/suffix trimming, in UTF-16 units, with the right crc."""
    limit = min(len(old), len(new))
    prefix = 0
    while prefix < limit and old[prefix] == new[prefix]:
        prefix += 1
    suffix = 0
    while suffix < limit - prefix and old[-1 - suffix] == new[-1 - suffix]:
        suffix += 1
    deleted = old[prefix : len(old) - suffix]
    inserted = new[prefix : len(new) - suffix]
    crc = zlib.crc32(new.encode()) & 0xFFFF
    return [crc, utf16_len(old[:prefix]), utf16_len(deleted), inserted]


async def test_crc32_matches_zlib(blank: Any) -> None:
    got = await js(
        blank,
        "const enc = new TextEncoder(); return arg.map((t) => d.crc32(enc.encode(t)));",
        TEXTS,
    )
    assert got == [zlib.crc32(text.encode()) for text in TEXTS]
    assert got[2] == 0xCBF43926
    checks = await js(blank, "return arg.map((t) => d.htmlCheck(t));", TEXTS)
    assert checks == [zlib.crc32(text.encode()) & 0xFFFF for text in TEXTS]


async def test_edits_apply_right_to_left_in_utf16_units(blank: Any) -> None:
    old = "<p>🙂 a</p><p>b</p><p>c</p>"
    new = "<p>🙂 A</p><p>b</p><p>CC</p>"
    # two edits, positions relative to the OLD html (🙂 is two UTF-16 units)
    a = old.index(" a") + 1
    c = old.index("c</p>")
    crc = zlib.crc32(new.encode()) & 0xFFFF
    diff = [crc, utf16_len(old[:a]), 1, "A", utf16_len(old[:c]), 1, "CC"]
    assert await js(blank, "return d.applyDiff(arg[0], arg[1]);", [old, diff]) == new
    # an empty diff (only the crc) leaves the html as it is
    same = [zlib.crc32(old.encode()) & 0xFFFF]
    assert await js(blank, "return d.applyDiff(arg[0], arg[1]);", [old, same]) == old


PAIRS = [
    ("<div><span>1</span></div>", "<div><span>2</span></div>"),
    (
        "<ul>" + "".join(f"<li lp-key='{i}'>item {i}</li>" for i in range(40)) + "</ul>",
        "<ul>"
        + "".join(f"<li lp-key='{i}'>item {i}{'!' if i % 7 == 0 else ''}</li>" for i in range(41))
        + "</ul>",
    ),
    ("<p>🙂 " + "word " * 30 + "</p>", "<p>🙂 " + "word " * 15 + "🎉 " + "word " * 16 + "</p>"),
    ("<b>é漢</b>" * 20, "<b>é漢</b>" * 9 + "<i>new</i>" + "<b>é漢</b>" * 11),
    # an appended row rebuilt from copies of the row before it
    (
        "<ul>"
        + "".join(f'<li lp-key="{i}"><b>Item {i}</b> by é Ada</li>' for i in range(30))
        + "</ul>",
        "<ul>"
        + "".join(f'<li lp-key="{i}"><b>Item {i}</b> by é Ada</li>' for i in range(31))
        + "</ul>",
    ),
]


async def test_inserts_made_of_copies_apply(blank: Any) -> None:
    old = "<ul><li>alpha beta gamma</li></ul>"
    new = "<ul><li>alpha beta gamma</li><li>alpha beta delta</li></ul>"
    at = old.index("</ul>")
    diff = [zlib.crc32(new.encode()) & 0xFFFF, at, 0, [4, 15, "delta", 24, 5]]
    assert await js(blank, "return d.applyDiff(arg[0], arg[1]);", [old, diff]) == new


@pytest.mark.parametrize(("old", "new"), PAIRS)
async def test_server_diffs_apply(blank: Any, old: str, new: str) -> None:
    diff = diff_html(old, new)
    if diff is None:  # the server would send the html whole
        diff = make_diff(old, new)
    assert await js(blank, "return d.applyDiff(arg[0], arg[1]);", [old, diff]) == new


BAD = {
    "checksum": lambda old, diff: [diff[0] ^ 1, *diff[1:]],
    "past the end": lambda old, diff: [diff[0], len(old), 5, "x"],
    "overlapping": lambda old, diff: [diff[0], 4, 3, "x", 5, 1, "y"],
    "descending": lambda old, diff: [diff[0], 8, 1, "x", 2, 1, "y"],
    "negative": lambda old, diff: [diff[0], -1, 1, "x"],
    "not a string": lambda old, diff: [diff[0], 1, 1, 5],
    "copy past the end": lambda old, diff: [diff[0], 1, 1, ["a", len(old), 2]],
    "copy without length": lambda old, diff: [diff[0], 1, 1, ["a", 0]],
    "empty copy": lambda old, diff: [diff[0], 1, 1, [0, 0]],
    "ragged": lambda old, diff: [diff[0], 1, 1],
    "not an array": lambda old, diff: "x",
}


@pytest.mark.parametrize("kind", sorted(BAD))
async def test_bad_diffs_are_refused(blank: Any, kind: str) -> None:
    old, new = "<div><span>1</span></div>", "<div><span>2</span></div>"
    diff = BAD[kind](old, make_diff(old, new))
    got = await js(
        blank,
        """try { d.applyDiff(arg[0], arg[1]); return "applied"; }
           catch (err) { return err instanceof d.DiffError ? "refused" : String(err); }""",
        [old, diff],
    )
    assert got == "refused"
