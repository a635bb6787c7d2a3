"""The runtime (livepy.js, socket, component, directives) against a scripted fake server.

The fake (tests/js/js_fake.py) speaks the wire protocol; each test reads the frames the
browser sends and decides when and how to answer.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.js.js_fake import (
    FRAME_CALL,
    FRAME_ERROR,
    FRAME_JOIN,
    FRAME_PING,
    FRAME_PONG,
    FakeLive,
    counter,
    open_page,
    page_html,
    snapshot,
    snapshot_attr,
)

pytestmark = pytest.mark.browser


async def test_join_sends_every_component_with_its_snapshot(page: Any, live: FakeLive) -> None:
    html, state = counter(3)
    live.pages["/p"] = page_html(html)
    await page.goto(live.url + "/p")
    conn = await live.accept()
    assert await conn.recv() == [FRAME_JOIN, [["c1", snapshot("c1", state)]]]
    assert await page.evaluate("window.livepy.connected") is True
    assert await page.evaluate("window.livepy.find('c1').state") == state
    assert await page.evaluate("window.livepy.find('nope')") is None


async def test_click_sends_a_call_and_the_reply_morphs(page: Any, live: FakeLive) -> None:
    html, _ = counter()
    conn = await open_page(page, live, html)
    await page.click("#inc5")
    assert await conn.recv() == [FRAME_CALL, 1, 1, {}, [["increment", [5]]]]
    new_html, state = counter(5)
    await conn.reply("c1", 1, state, html=new_html)
    await page.wait_for_function("document.querySelector('#count').textContent === '5'")
    assert await page.evaluate("window.livepy.find('c1').state.count") == 5


async def test_same_tick_actions_are_batched(page: Any, live: FakeLive) -> None:
    html, _ = counter()
    conn = await open_page(page, live, html)
    await page.evaluate(
        "document.querySelector('#inc').click(); document.querySelector('#inc5').click()"
    )
    assert await conn.recv() == [FRAME_CALL, 1, 1, {}, [["increment", []], ["increment", [5]]]]


async def test_input_during_a_call_waits_and_keeps_its_order(page: Any, live: FakeLive) -> None:
    html, state = counter()
    conn = await open_page(page, live, html)
    await page.click("#inc")
    assert (await conn.recv())[2] == 1
    await page.click("#inc5")
    await page.click("#save")
    await page.click("#inc")
    await page.wait_for_function(
        """() => { const c = window.livepy.find('c1');
          return c.inflight.seq === 1 && c.queue.flatMap((b) => b.calls).length === 3; }"""
    )
    assert conn.frames.empty()  # nothing more goes out while seq 1 is in flight
    await conn.reply("c1", 1, state)
    assert await conn.recv() == [
        FRAME_CALL,
        1,
        2,
        {},
        [["increment", [5]], ["save", []], ["increment", []]],
    ]


async def test_call_promise_resolves_with_effects(page: Any, live: FakeLive) -> None:
    html, state = counter()
    conn = await open_page(page, live, html)
    await page.evaluate(
        "() => { window.__done = window.livepy.find('c1').call('increment', 2, 'x'); }"
    )
    assert await conn.recv() == [FRAME_CALL, 1, 1, {}, [["increment", [2, "x"]]]]
    await conn.reply("c1", 1, state, effects={"dispatch": [["saved", {"id": 1}]]})
    assert await page.evaluate("window.__done") == {"dispatch": [["saved", {"id": 1}]]}


async def test_magic_set_and_refresh(page: Any, live: FakeLive) -> None:
    html, state = counter()
    conn = await open_page(page, live, html)
    await page.click("#set")
    assert await conn.recv() == [FRAME_CALL, 1, 1, {"name": "Set by click"}, []]
    await conn.reply("c1", 1, {**state, "name": "Set by click"})
    await page.click("#refresh")
    assert await conn.recv() == [FRAME_CALL, 1, 2, {}, []]


async def test_model_default_sends_on_change(page: Any, live: FakeLive) -> None:
    html, _ = counter()
    conn = await open_page(page, live, html)
    await page.fill("#name", "Ada")
    await page.wait_for_function("window.livepy.find('c1').unsentValue('name').value === 'Ada'")
    assert conn.frames.empty()  # typing alone sends nothing
    await page.dispatch_event("#name", "change")
    assert await conn.recv() == [FRAME_CALL, 1, 1, {"name": "Ada"}, []]


async def test_unsent_model_values_ride_along(page: Any, live: FakeLive) -> None:
    html, _ = counter()
    conn = await open_page(page, live, html)
    await page.fill("#name", "Grace")
    # a click that does not move focus, so no change event commits the field first
    await page.evaluate("document.querySelector('#inc').click()")
    assert await conn.recv() == [FRAME_CALL, 1, 1, {"name": "Grace"}, [["increment", []]]]


async def test_model_live_is_debounced(page: Any, live: FakeLive) -> None:
    html, _ = counter()
    conn = await open_page(page, live, html)
    await page.locator("#search").press_sequentially("abc")
    assert await conn.recv() == [FRAME_CALL, 1, 1, {"search": "abc"}, []]


async def test_model_values_follow_the_state(page: Any, live: FakeLive) -> None:
    html, state = counter(name="Initial", search="init")
    conn = await open_page(page, live, html)
    assert await page.input_value("#name") == "Initial"
    assert await page.input_value("#search") == "init"
    # The user types in a focused field; a click sends the value along with an action...
    await page.fill("#search", "typed")
    await page.evaluate("document.querySelector('#inc').click()")
    assert await conn.recv() == [FRAME_CALL, 1, 1, {"search": "typed"}, [["increment", []]]]
    # ...and keeps typing before the reply: even a value the server changed must not win now.
    await page.locator("#search").press_sequentially(" more")
    await conn.reply("c1", 1, {**state, "name": "From server", "search": "TYPED"})
    await page.wait_for_function("document.querySelector('#name').value === 'From server'")
    assert await page.input_value("#search") == "typed more"
    # Once the typing is sent, a value the server changes on purpose reaches the focused field.
    assert await conn.recv() == [FRAME_CALL, 1, 2, {"search": "typed more"}, []]
    await conn.reply("c1", 2, {**state, "search": ""})
    await page.wait_for_function("document.querySelector('#search').value === ''")
    assert await page.evaluate("document.activeElement.id") == "search"


async def test_focused_field_keeps_refused_input_when_state_did_not_change(
    page: Any, live: FakeLive
) -> None:
    html, state = counter(search="init")
    conn = await open_page(page, live, html)
    await page.fill("#search", "typed")
    await page.evaluate("document.querySelector('#inc').click()")
    assert (await conn.recv())[3] == {"search": "typed"}
    await conn.send([FRAME_ERROR, "component_error", "boom", "c1", 1, None])
    await page.wait_for_function("!window.livepy.find('c1').busy")
    # a later push re-sends the unchanged state: nothing deliberate, the typing stays
    new_html, _ = counter(4, search="init")
    await conn.reply("c1", 5, state, html=new_html)
    await page.wait_for_function("document.querySelector('#count').textContent === '4'")
    assert await page.input_value("#search") == "typed"


async def test_unfocused_model_field_shows_unsent_input_over_pushed_state(
    page: Any, live: FakeLive
) -> None:
    html, state = counter()
    conn = await open_page(page, live, html)
    # typed without a change event (focus never left the field), so the value stays unsent
    await page.evaluate(
        """() => { const el = document.querySelector('#name'); el.value = 'mine';
                   el.dispatchEvent(new Event('input', {bubbles: true})); }"""
    )
    await page.wait_for_function("window.livepy.find('c1').unsentValue('name').value === 'mine'")
    new_html, _ = counter(9)
    await conn.reply("c1", 7, {**state, "name": "pushed"}, html=new_html)  # a server push
    await page.wait_for_function("document.querySelector('#count').textContent === '9'")
    assert await page.input_value("#name") == "mine"


async def test_loading_states(page: Any, live: FakeLive) -> None:
    html, state = counter()
    conn = await open_page(page, live, html)
    looks = """() => ({
      spin: getComputedStyle(document.querySelector('#spin')).display,
      fade: document.querySelector('#fade').className,
      save: document.querySelector('#save').disabled,
    })"""
    assert await page.evaluate(looks) == {"spin": "none", "fade": "", "save": False}
    await page.click("#inc")
    await conn.recv()
    # lp-target="save" keeps the save button out of an increment
    assert await page.evaluate(looks) == {
        "spin": "inline-block",
        "fade": "faded busy",
        "save": False,
    }
    new_html, _ = counter(1)
    await conn.reply("c1", 1, state, html=new_html)
    await page.wait_for_function("document.querySelector('#count').textContent === '1'")
    assert await page.evaluate(looks) == {"spin": "none", "fade": "", "save": False}
    await page.click("#save")
    await conn.recv()
    assert await page.evaluate(looks) == {
        "spin": "inline-block",
        "fade": "faded busy",
        "save": True,
    }
    await conn.reply("c1", 2, state)
    await page.wait_for_function("!document.querySelector('#save').disabled")


async def test_loading_delay_waits_before_showing(page: Any, live: FakeLive) -> None:
    html, state = counter()
    conn = await open_page(page, live, html)
    shown_at_once = await page.evaluate(
        """() => {
          document.querySelector('#inc').click();
          return [getComputedStyle(document.querySelector('#spin')).display,
                  getComputedStyle(document.querySelector('#slow')).display];
        }"""
    )
    assert shown_at_once == ["inline-block", "none"]
    await conn.recv()
    await page.wait_for_function(
        "getComputedStyle(document.querySelector('#slow')).display === 'block'"
    )
    await conn.reply("c1", 1, state)
    await page.wait_for_function(
        "getComputedStyle(document.querySelector('#slow')).display === 'none'"
    )


async def test_model_blur_sends_when_the_field_loses_focus(page: Any, live: FakeLive) -> None:
    html, _ = counter()
    conn = await open_page(page, live, html)
    await page.fill("#bio", "Hi")
    await page.dispatch_event("#bio", "change")
    await page.wait_for_function("window.livepy.find('c1').unsentValue('bio').value === 'Hi'")
    assert await page.evaluate("window.livepy.find('c1').busy") is False
    await page.focus("#name")
    assert await conn.recv() == [FRAME_CALL, 1, 1, {"bio": "Hi"}, []]


async def test_keydown_enter(page: Any, live: FakeLive) -> None:
    html, _ = counter()
    conn = await open_page(page, live, html)
    await page.focus("#todo")
    await page.keyboard.press("a")
    await page.keyboard.press("Shift+Tab")
    await page.focus("#todo")
    assert await page.evaluate("window.livepy.find('c1').busy") is False
    await page.keyboard.press("Enter")
    assert await conn.recv() == [FRAME_CALL, 1, 1, {}, [["add", []]]]


async def test_keydown_modifier_matching(blank: Any) -> None:
    got = await blank.evaluate(
        """async () => {
          const { keyMatches } = await import('/js/directives/keydown.js');
          const ev = (key, mods = {}) => new KeyboardEvent("keydown", { key, ...mods });
          return [
            keyMatches(ev("Enter"), ["enter"]),
            keyMatches(ev("a"), ["enter"]),
            keyMatches(ev("Escape"), ["escape"]),
            keyMatches(ev(" "), ["space"]),
            keyMatches(ev("ArrowUp"), ["up"]),
            keyMatches(ev("PageDown"), ["page-down"]),
            keyMatches(ev("s", { ctrlKey: true }), ["ctrl", "s"]),
            keyMatches(ev("s"), ["ctrl", "s"]),
            keyMatches(ev("Enter", { shiftKey: true }), ["enter"]),
            keyMatches(ev("Enter", { shiftKey: true }), ["enter", "exact"]),
            keyMatches(ev("K", { shiftKey: true, metaKey: true }), ["meta", "shift", "k"]),
            keyMatches(ev("x"), ["prevent"]),
          ];
        }"""
    )
    assert got == [True, False, True, True, True, True, True, False, True, False, True, True]


async def test_submit_calls_the_action_with_model_values(page: Any, live: FakeLive) -> None:
    body = (
        '<form lp-id="f1" lp-snapshot="{snap}" lp-submit="save(1)">'
        '<input id="title" lp-model="title"><button id="go">go</button></form>'
    ).format(snap=snapshot_attr("f1", {"title": ""}))
    conn = await open_page(page, live, body)
    await page.fill("#title", "Hello")
    await page.press("#title", "Enter")
    assert await conn.recv() == [FRAME_CALL, 1, 1, {"title": "Hello"}, [["save", [1]]]]
    assert page.url.endswith("/p")


async def test_server_ping_gets_a_pong(page: Any, live: FakeLive) -> None:
    html, _ = counter()
    conn = await open_page(page, live, html)
    await conn.send([FRAME_PING])
    assert await conn.recv() == [FRAME_PONG]


async def test_error_rejects_the_call_and_shows_the_overlay(page: Any, live: FakeLive) -> None:
    html, _ = counter()
    conn = await open_page(page, live, html, debug=True)
    await page.evaluate(
        """() => { window.__outcome = window.livepy.find('c1').call('boom').then(
             () => 'resolved', (err) => [err.name, err.code, err.message]); }"""
    )
    await conn.recv()
    hostile = '<img src=x onerror="window.__xss = 1">'
    await conn.send(
        [FRAME_ERROR, "unknown_action", f"no action {hostile}", "c1", 1, "Trace\n  line"]
    )
    assert await page.evaluate("window.__outcome") == [
        "LivepyError",
        "unknown_action",
        f"no action {hostile}",
    ]
    overlay = page.locator("#livepy-error-overlay")
    await overlay.wait_for()
    assert f"no action {hostile}" in await overlay.inner_text()
    assert "Trace\n  line" in await overlay.inner_text()
    assert await overlay.locator("img").count() == 0
    assert await page.evaluate("window.__xss ?? null") is None
    events = await page.evaluate("window.__events.filter(([n]) => n === 'lp:error')")
    assert events == [
        [
            "lp:error",
            {"code": "unknown_action", "message": f"no action {hostile}", "component": "c1"},
        ]
    ]
    await page.click("[data-lp-dismiss]")
    await overlay.wait_for(state="detached")
    # the component carries on
    await page.click("#inc")
    assert (await conn.recv())[2:] == [2, {}, [["increment", []]]]


async def test_no_overlay_without_debug(page: Any, live: FakeLive) -> None:
    html, _ = counter()
    conn = await open_page(page, live, html)
    await conn.send([FRAME_ERROR, "bad_frame", "nope", None, None, None])
    await page.wait_for_function("window.__events.some(([n]) => n === 'lp:error')")
    assert await page.locator("#livepy-error-overlay").count() == 0


async def test_refused_join_rejects_calls(page: Any, live: FakeLive) -> None:
    html, _ = counter()
    live.pages["/p"] = page_html(html)
    await page.goto(live.url + "/p")
    conn = await live.accept()
    await conn.recv_type(FRAME_JOIN)
    await conn.send([FRAME_ERROR, "snapshot_invalid", "bad signature", "c1", None, None])
    await page.wait_for_function("window.livepy.find('c1').failure !== null")
    got = await page.evaluate("window.livepy.find('c1').call('x').catch((e) => e.code)")
    assert got == "snapshot_invalid"


async def test_reconnect_rejoins_with_the_latest_snapshot_and_replays(
    page: Any, live: FakeLive
) -> None:
    html, state = counter()
    conn = await open_page(page, live, html)
    await page.click("#inc")
    await conn.recv()
    newer = {**state, "count": 1}
    await conn.reply("c1", 1, newer)
    await page.wait_for_function("window.livepy.find('c1').state.count === 1")
    # a call goes out and the socket dies before its reply
    await page.evaluate("() => { window.__lost = window.livepy.find('c1').call('save'); }")
    assert (await conn.recv())[4] == [["save", []]]
    # Record that the offline banner showed: the runtime may reconnect (and hide it again)
    # before this test gets to look, since the fake server completes handshakes by itself.
    await page.evaluate(
        """() => {
          const off = document.querySelector('#off');
          window.__offSeen = false;
          const seen = () => {
            if (getComputedStyle(off).display === 'flex') window.__offSeen = true;
          };
          new MutationObserver(seen).observe(off, { attributes: true });
          window.addEventListener('lp:disconnected', seen);
        }"""
    )
    await conn.close()
    await page.wait_for_function("window.__events.some(([n]) => n === 'lp:disconnected')")
    await page.wait_for_function("window.__offSeen === true")
    await page.evaluate("document.querySelector('#inc5').click()")  # queued while offline
    conn2 = await live.accept()
    assert await conn2.recv() == [FRAME_JOIN, [["c1", snapshot("c1", newer)]]]
    conn2.refs["c1"] = 6  # another process hands out other refs
    await conn2.joined("c1", await page.evaluate("window.livepy.find('c1').html"), newer)
    # the lost call first, then what was queued; sequence numbers restart with the join
    assert await conn2.recv() == [FRAME_CALL, 6, 1, {}, [["save", []]]]
    await conn2.reply("c1", 1, newer, effects="ok")
    assert await page.evaluate("window.__lost") == "ok"
    assert await conn2.recv() == [FRAME_CALL, 6, 2, {}, [["increment", [5]]]]
    names = await page.evaluate("window.__events.map(([n]) => n)")
    assert names == ["lp:connected", "lp:disconnected", "lp:reconnected"]
    assert await page.evaluate("getComputedStyle(document.querySelector('#off')).display") == "none"


async def test_components_added_by_a_morph_are_joined(page: Any, live: FakeLive) -> None:
    snap = snapshot_attr("p1", {})
    conn = await open_page(
        page, live, f'<div lp-id="p1" lp-snapshot="{snap}"><b lp-click="more">more</b></div>'
    )
    await page.click("b")
    await conn.recv()
    child_snap = snapshot("k1", {"n": 1})
    child_attr = snapshot_attr("k1", {"n": 1})
    child = f'<div lp-id="k1" lp-snapshot="{child_attr}"><i lp-click="bump">child</i></div>'
    await conn.reply("p1", 1, {}, html=f'<div lp-id="p1"><b lp-click="more">more</b>{child}</div>')
    assert await conn.recv() == [FRAME_JOIN, [["k1", child_snap]]]
    assert await conn.joined("k1", child, {"n": 1}) == 2
    await page.click("i")
    assert await conn.recv() == [FRAME_CALL, 2, 1, {}, [["bump", []]]]
    # removing it from the parent drops it from the registry
    await conn.reply("p1", 2, {}, html='<div lp-id="p1"><b lp-click="more">more</b></div>')
    await page.wait_for_function("window.livepy.find('k1') === null")
