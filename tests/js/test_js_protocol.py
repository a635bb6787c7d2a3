"""Protocol v2 in the runtime: refs from JOINED, render diffs with their checksum and RESYNC,
snap_patch ops (and refused ones), effects as an optional sixth element."""

from __future__ import annotations

import zlib
from typing import Any

import pytest

from tests.js.js_fake import (
    FRAME_CALL,
    FRAME_JOIN,
    FRAME_REPLY,
    FRAME_RESYNC,
    MAC,
    RECORD_EVENTS,
    FakeLive,
    counter,
    open_page,
    page_html,
    snapshot,
    snapshot_attr,
)

pytestmark = pytest.mark.browser

CACHED = "window.livepy.find('c1').html"


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def diff(old: str, new: str, *, crc: int | None = None) -> list[Any]:
    """A one-edit render diff from `old` to `new` (common prefix and suffix trimmed)."""
    limit = min(len(old), len(new))
    prefix = 0
    while prefix < limit and old[prefix] == new[prefix]:
        prefix += 1
    suffix = 0
    while suffix < limit - prefix and old[-1 - suffix] == new[-1 - suffix]:
        suffix += 1
    check = zlib.crc32(new.encode()) & 0xFFFF if crc is None else crc
    inserted = new[prefix : len(new) - suffix]
    return [check, utf16_len(old[:prefix]), utf16_len(old[prefix : len(old) - suffix]), inserted]


def count_text(page: Any, value: str) -> Any:
    return page.wait_for_function(f"document.querySelector('#count').textContent === '{value}'")


async def test_calls_wait_for_joined_and_use_its_ref(page: Any, live: FakeLive) -> None:
    html, state = counter()
    live.pages["/p"] = page_html(html)
    await page.goto(live.url + "/p")
    conn = await live.accept()
    await conn.recv_type(FRAME_JOIN)
    await page.click("#inc")
    await page.click("#inc5")
    await page.wait_for_function(
        "window.livepy.find('c1').queue.flatMap((b) => b.calls).length === 2"
    )
    assert conn.frames.empty()  # no ref yet: nothing can go out
    conn.refs["c1"] = 42
    await conn.joined("c1", html, state)
    assert await conn.recv() == [FRAME_CALL, 42, 1, {}, [["increment", []], ["increment", [5]]]]


async def test_joined_html_is_the_diff_base(page: Any, live: FakeLive) -> None:
    html, state = counter()
    live.pages["/p"] = page_html(html)
    await page.goto(live.url + "/p")
    conn = await live.accept()
    await conn.recv_type(FRAME_JOIN)
    joined_html, _ = counter(2)  # the server's render differs from the page's
    await conn.joined("c1", joined_html, state)
    await count_text(page, "2")
    assert await page.evaluate(CACHED) == joined_html
    await page.click("#inc")
    assert (await conn.recv())[:3] == [FRAME_CALL, 1, 1]
    new_html, new_state = counter(3)
    await conn.reply("c1", 1, new_state, html=diff(joined_html, new_html))
    await count_text(page, "3")
    assert await page.evaluate(CACHED) == new_html


async def test_reply_render_nil_full_and_diff(page: Any, live: FakeLive) -> None:
    html, state = counter()
    conn = await open_page(page, live, html)
    base = await page.evaluate(CACHED)
    await page.click("#inc")
    await conn.recv_call()
    await conn.reply("c1", 1, state)  # render nil: the html did not change
    await page.wait_for_function("!window.livepy.find('c1').busy")
    renders = await page.evaluate("window.livepy.find('c1').renders")
    await page.click("#inc")
    await conn.recv_call()
    # a diff with several edits, including non-BMP text before and after them
    new = base.replace(">0<", ">🙂 1<").replace('id="fade"', 'id="fade" title="é🙂"')
    assert new != base
    edit_a = diff(base[: base.index('id="fade"') - 1], new[: new.index('id="fade"') - 1])
    tail_old = base[base.index('id="fade"') :]
    tail_new = new[new.index('id="fade"') :]
    edit_b = diff(tail_old, tail_new)
    shift = utf16_len(base[: base.index('id="fade"')])
    two_edits = [zlib.crc32(new.encode()) & 0xFFFF, *edit_a[1:], edit_b[1] + shift, *edit_b[2:]]
    await conn.reply("c1", 2, state, html=two_edits)
    await count_text(page, "🙂 1")
    assert await page.evaluate("document.querySelector('#fade').title") == "é🙂"
    assert await page.evaluate(CACHED) == new
    assert await page.evaluate("window.livepy.find('c1').renders") == renders + 1
    full, _ = counter(5)
    await conn.reply("c1", 2, state, html=full)  # a push with the full html
    await count_text(page, "5")
    assert await page.evaluate(CACHED) == full


async def test_checksum_mismatch_resyncs_instead_of_morphing(page: Any, live: FakeLive) -> None:
    html, state = counter()
    conn = await open_page(page, live, html)
    base = await page.evaluate(CACHED)
    await page.evaluate("() => { window.__done = window.livepy.find('c1').call('increment'); }")
    await conn.recv_call()
    wrong = base.replace(">0<", ">1<")
    bad = diff(base, wrong, crc=(zlib.crc32(wrong.encode()) & 0xFFFF) ^ 0x5A5A)
    await conn.reply("c1", 1, {**state, "count": 1}, html=bad, effects={"ok": 1})
    assert await conn.recv() == [FRAME_RESYNC, 1]
    # the call itself completed: its promise resolves and the state patch applied
    assert await page.evaluate("window.__done") == {"ok": 1}
    assert await page.evaluate("window.livepy.find('c1').state.count") == 1
    # the DOM and the cached html were left alone
    assert await page.text_content("#count") == "0"
    assert await page.evaluate(CACHED) == base
    # a diff arriving before the full html is built on html the client lacks: no second RESYNC
    await conn.reply("c1", 1, None, html=diff(wrong, wrong.replace(">1<", ">2<")))
    full, _ = counter(2)
    await conn.reply("c1", 1, None, html=full)  # the server's answer to RESYNC
    await count_text(page, "2")
    assert await page.evaluate(CACHED) == full
    # diffs work again from the new base
    await conn.reply("c1", 1, None, html=diff(full, counter(3)[0]))
    await count_text(page, "3")
    await page.click("#inc")
    assert (await conn.recv())[0] == FRAME_CALL  # no stray RESYNC went out in between


async def test_out_of_bounds_diff_resyncs(page: Any, live: FakeLive) -> None:
    html, _ = counter()
    conn = await open_page(page, live, html)
    base = await page.evaluate(CACHED)
    await conn.reply("c1", 0, None, html=[0, len(base) + 10, 1, "x"])
    assert await conn.recv() == [FRAME_RESYNC, 1]
    assert await page.text_content("#count") == "0"


async def test_snap_patch_updates_state_mac_and_issued_at(page: Any, live: FakeLive) -> None:
    html, state = counter(todos=[{"id": 1, "text": "a"}], meta={"tags": ["x"]})
    conn = await open_page(page, live, html)
    await page.click("#inc")
    await conn.recv_call()
    mac = bytes([7] * 8)
    ops = [
        [["count"], 1],
        [["todos"], 1, 0, [{"id": 2, "text": "b"}]],
        [["todos", 0, "text"], "A"],
        [["meta", "tags"]],
        [["meta", "seen"], True],
    ]
    await conn.send([FRAME_REPLY, 1, 1, None, [1_800_000_000, ops, mac]])
    await page.wait_for_function("window.livepy.find('c1').state.count === 1")
    expected = {
        **state,
        "count": 1,
        "todos": [{"id": 1, "text": "A"}, {"id": 2, "text": "b"}],
        "meta": {"seen": True},
    }
    assert await page.evaluate("window.livepy.find('c1').state") == expected
    # issued_at nil keeps the old one; the mac is always replaced
    await conn.send([FRAME_REPLY, 1, 1, None, [None, [[["name"], "n"]], MAC]])
    await page.wait_for_function("window.livepy.find('c1').state.name === 'n'")
    # a reconnect rejoins with exactly what the patches produced
    await conn.close()
    conn2 = await live.accept()
    join = await conn2.recv_type(FRAME_JOIN)
    assert join == [
        FRAME_JOIN,
        [["c1", ["widget", "c1", 1_800_000_000, {**expected, "name": "n"}, MAC]]],
    ]


async def test_refused_patch_keeps_the_last_good_snapshot_and_resyncs(
    page: Any, live: FakeLive
) -> None:
    html, state = counter()
    conn = await open_page(page, live, html)
    await page.click("#inc")
    await conn.recv_call()
    hostile = [[["count"], 1], [["constructor", "prototype", "polluted"], "yes"]]
    await conn.send([FRAME_REPLY, 1, 1, None, [1_800_000_000, hostile, bytes(8)]])
    assert await conn.recv() == [FRAME_RESYNC, 1]
    assert await page.evaluate("({}).polluted === undefined && !('polluted' in Object.prototype)")
    # nothing of the refused patch applied, not even its first op or its mac
    assert await page.evaluate("window.livepy.find('c1').state") == state
    snap = await page.evaluate("Array.from(window.livepy.find('c1').snapshot.mac)")
    assert snap == list(MAC)
    # the resync answer: full html, and the whole state as one op
    full, _ = counter(1)
    fresh = {**state, "count": 1}
    await conn.send([FRAME_REPLY, 1, 1, full, [1_800_000_000, [[[], fresh]], bytes([1] * 8)]])
    await count_text(page, "1")
    assert await page.evaluate("window.livepy.find('c1').state") == fresh


async def test_effects_are_an_optional_sixth_element(page: Any, live: FakeLive) -> None:
    html, _ = counter()
    conn = await open_page(page, live, html)
    await page.evaluate(
        """() => { window.__effects = [];
          document.addEventListener('lp:effects', (e) => window.__effects.push(e.detail));
          window.__a = window.livepy.find('c1').call('a'); }"""
    )
    await conn.recv_call()
    await conn.send([FRAME_REPLY, 1, 1, None, None])  # five elements
    assert await page.evaluate("window.__a") is None
    await page.evaluate("() => { window.__b = window.livepy.find('c1').call('b'); }")
    await conn.recv_call()
    await conn.send([FRAME_REPLY, 1, 2, None, None, {"dispatch": [["saved", {}]]}])
    assert await page.evaluate("window.__b") == {"dispatch": [["saved", {}]]}
    assert await page.evaluate("window.__effects") == [
        {"component": "c1", "effects": {"dispatch": [["saved", {}]]}}
    ]


FREE_FORM = """
<div lp-id="f1" lp-snapshot="{snap}">
  <p id="msg">{msg}</p>
  <input id="free" value="">
  <input id="bound" lp-model="title">
  <input id="live" lp-model.live="query">
</div>
"""


def free_form(msg: str = "hello", **state: Any) -> tuple[str, dict[str, Any]]:
    full = {"title": "", "query": "", **state}
    return FREE_FORM.format(snap=snapshot_attr("f1", full), msg=msg), full


async def test_rejoin_keeps_what_was_typed_while_offline(page: Any, live: FakeLive) -> None:
    html, state = free_form()
    conn = await open_page(page, live, html)
    await conn.close()
    await page.wait_for_function("window.__events.some(([n]) => n === 'lp:disconnected')")
    # typed while the socket is down: an unbound field and a bound one (no change event yet)
    await page.fill("#free", "not bound")
    await page.fill("#bound", "typed offline")
    await page.focus("#live")
    conn2 = await live.accept()
    join = await conn2.recv_type(FRAME_JOIN)
    assert join[1][0][1][3] == state  # the snapshot still holds the server's state
    # the same process state on another process: the same html, so nothing is morphed
    renders = await page.evaluate("window.livepy.find('f1').renders")
    await conn2.joined("f1", await page.evaluate("window.livepy.find('f1').html"), state)
    # the bound value goes out right after the JOINED, before any action
    assert await conn2.recv() == [FRAME_CALL, 1, 1, {"title": "typed offline"}, []]
    assert await page.evaluate("window.livepy.find('f1').renders") == renders
    assert await page.input_value("#free") == "not bound"
    assert await page.input_value("#bound") == "typed offline"


async def test_rejoin_with_changed_html_morphs_but_keeps_typing(page: Any, live: FakeLive) -> None:
    html, state = free_form()
    conn = await open_page(page, live, html)
    await conn.close()
    await page.wait_for_function("window.__events.some(([n]) => n === 'lp:disconnected')")
    await page.fill("#free", "not bound")
    await page.locator("#live").press_sequentially("abc")
    conn2 = await live.accept()
    await conn2.recv_type(FRAME_JOIN)
    changed, _ = free_form("changed while away")
    await conn2.joined("f1", changed, state)
    await page.wait_for_function("document.querySelector('#msg').textContent.includes('away')")
    assert await conn2.recv_call() == [FRAME_CALL, 1, 1, {"query": "abc"}, []]
    assert await page.input_value("#free") == "not bound"
    assert await page.input_value("#live") == "abc"
    assert await page.evaluate("document.activeElement.id") == "live"


async def test_a_bad_snapshot_attribute_is_not_joined(page: Any, live: FakeLive) -> None:
    good, _ = counter()
    bad = '<div lp-id="b1" lp-snapshot="not-a-snapshot"><button lp-click="x">x</button></div>'
    live.pages["/p"] = page_html(good + bad)
    await page.add_init_script(RECORD_EVENTS)
    await page.goto(live.url + "/p")
    conn = await live.accept()
    join = await conn.recv_type(FRAME_JOIN)
    assert [cid for cid, _ in join[1]] == ["c1"]
    got = await page.evaluate("window.livepy.find('b1').call('x').catch((e) => e.code)")
    assert got == "snapshot_invalid"
    assert join[1][0][1] == snapshot("c1", counter()[1])


async def test_a_lost_call_is_resent_unchanged(page: Any, live: FakeLive) -> None:
    html, state = counter()
    conn = await open_page(page, live, html)
    await page.evaluate("() => { window.__lost = window.livepy.find('c1').call('save'); }")
    await conn.recv_call()
    await conn.close()
    conn2 = await live.accept()
    await conn2.recv_type(FRAME_JOIN)
    # new work arrives after the JOIN went out, before the JOINED: it must not join the lost call
    await page.evaluate("document.querySelector('#inc5').click()")
    await page.wait_for_function("window.livepy.find('c1').queue.length === 2")
    await conn2.joined("c1", html, state)
    assert await conn2.recv_call() == [FRAME_CALL, 1, 1, {}, [["save", []]]]
    await conn2.reply("c1", 1, state, effects="saved")
    assert await page.evaluate("window.__lost") == "saved"
    assert await conn2.recv_call() == [FRAME_CALL, 1, 2, {}, [["increment", [5]]]]
