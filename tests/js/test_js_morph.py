"""js/morph.js: patch in place, keep identity, focus, caret, typed values and scroll."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.browser


async def run(page: Any, start_html: str, body: str, arg: Any = None) -> Any:
    """Put `start_html` in the page, then run `body` with `morph` and `root` in scope."""
    return await page.evaluate(
        f"""async ([startHtml, arg]) => {{
          const {{ morph }} = await import('/js/morph.js');
          document.body.innerHTML = startHtml;
          const root = document.body.firstElementChild;
          {body}
        }}""",
        [start_html, arg],
    )


async def test_attributes_and_text_are_patched_in_place(blank: Any) -> None:
    got = await run(
        blank,
        '<div lp-id="c1" class="a" title="old" data-x="1"><span>0</span> clicks</div>',
        """
        const span = root.querySelector("span");
        const text = span.firstChild;
        const out = morph(root,
          '<div lp-id="c1" class="b" data-y="2"><span>5</span> clicks!</div>');
        return {
          same: out === root, spanSame: root.querySelector("span") === span,
          textSame: span.firstChild === text,
          html: root.outerHTML,
        };
        """,
    )
    assert got == {
        "same": True,
        "spanSame": True,
        "textSame": True,
        "html": '<div lp-id="c1" class="b" data-y="2"><span>5</span> clicks!</div>',
    }


async def test_root_keeps_its_lp_id(blank: Any) -> None:
    got = await run(
        blank,
        '<div lp-id="c1" lp-snapshot="abc">x</div>',
        """
        morph(root, '<div>y</div>');
        const first = root.outerHTML;
        morph(root, '<div lp-id="other">z</div>');
        return [first, root.outerHTML];
        """,
    )
    assert got == ['<div lp-id="c1">y</div>', '<div lp-id="c1">z</div>']


async def test_root_tag_change_returns_the_new_root(blank: Any) -> None:
    got = await run(
        blank,
        '<div lp-id="c1">x</div>',
        """
        const out = morph(root, '<section>y</section>');
        return [out === root, root.isConnected, out.outerHTML, document.body.innerHTML];
        """,
    )
    assert got == [
        False,
        False,
        '<section lp-id="c1">y</section>',
        '<section lp-id="c1">y</section>',
    ]


async def test_html_must_have_one_root(blank: Any) -> None:
    got = await run(
        blank,
        '<div lp-id="c1">x</div>',
        """
        const out = [];
        for (const html of ['<p>a</p><p>b</p>', 'just text', '']) {
          try { morph(root, html); out.push("morphed"); } catch (err) { out.push(err.message); }
        }
        return [out, root.outerHTML];
        """,
    )
    assert got[0] == [
        "livepy: component html must have exactly one root element, got 2",
        "livepy: component html must have exactly one root element, got 0",
        "livepy: component html must have exactly one root element, got 0",
    ]
    assert got[1] == '<div lp-id="c1">x</div>'


async def test_keyed_children_move_and_keep_identity(blank: Any) -> None:
    got = await run(
        blank,
        '<ul lp-id="c1"><li lp-key="a">A</li><li lp-key="b">B</li>'
        '<li lp-key="c">C</li><li lp-key="x">X</li></ul>',
        """
        const before = {};
        for (const li of root.children) { before[li.getAttribute("lp-key")] = li; li.mark = "old"; }
        morph(root, '<ul><li lp-key="c">C!</li><li lp-key="d">D</li><li lp-key="a">A</li>' +
                    '<li lp-key="b" class="hot">B</li></ul>');
        const lis = [...root.children];
        return {
          order: lis.map((li) => li.getAttribute("lp-key")),
          text: lis.map((li) => li.textContent),
          kept: lis.map((li) => li === before[li.getAttribute("lp-key")]),
          marks: lis.map((li) => li.mark ?? null),
          goneDetached: !before.x.isConnected,
          bClass: before.b.className,
        };
        """,
    )
    assert got == {
        "order": ["c", "d", "a", "b"],
        "text": ["C!", "D", "A", "B"],
        "kept": [True, False, True, True],
        "marks": ["old", None, "old", "old"],
        "goneDetached": True,
        "bClass": "hot",
    }


async def test_unkeyed_children_match_by_position_and_tag(blank: Any) -> None:
    got = await run(
        blank,
        '<div lp-id="c1"><p>one</p><p>two</p><em>three</em></div>',
        """
        const [p1, p2, em] = root.children;
        morph(root, '<div><p>uno</p><p>dos</p><b>tres</b><i>new</i></div>');
        const kids = [...root.children];
        return {
          html: root.innerHTML,
          keptP: kids[0] === p1 && kids[1] === p2,
          emGone: !em.isConnected,
        };
        """,
    )
    assert got == {
        "html": "<p>uno</p><p>dos</p><b>tres</b><i>new</i>",
        "keptP": True,
        "emGone": True,
    }


async def test_focused_input_keeps_value_and_caret(blank: Any) -> None:
    got = await run(
        blank,
        '<form lp-id="c1"><input id="name" value="server" class="a">'
        '<input id="other" value="x"></form>',
        """
        const input = root.querySelector("#name");
        input.focus();
        input.value = "hello world";
        input.setSelectionRange(2, 5, "backward");
        root.querySelector("#other").value = "typed but not focused";
        morph(root, '<form><input id="name" value="from server" class="b">' +
                    '<input id="other" value="server other"></form>');
        return {
          focused: document.activeElement === input,
          value: input.value,
          selection: [input.selectionStart, input.selectionEnd, input.selectionDirection],
          className: input.className,
          valueAttr: input.getAttribute("value"),
          other: root.querySelector("#other").value,
        };
        """,
    )
    assert got == {
        "focused": True,
        "value": "hello world",
        "selection": [2, 5, "backward"],
        "className": "b",
        "valueAttr": "server",  # the focused field's value attribute is left alone too
        "other": "server other",
    }


async def test_focused_input_survives_a_keyed_move(blank: Any) -> None:
    got = await run(
        blank,
        '<div lp-id="c1"><p lp-key="1">one</p><label lp-key="2"><input id="t"></label></div>',
        """
        const input = root.querySelector("#t");
        input.focus();
        input.value = "abcdef";
        input.setSelectionRange(3, 3);
        morph(root, '<div><label lp-key="2"><input id="t"></label><p lp-key="1">one</p></div>');
        return {
          moved: root.firstElementChild.tagName,
          same: root.querySelector("#t") === input,
          focused: document.activeElement === input,
          value: input.value,
          caret: [input.selectionStart, input.selectionEnd],
        };
        """,
    )
    assert got == {
        "moved": "LABEL",
        "same": True,
        "focused": True,
        "value": "abcdef",
        "caret": [3, 3],
    }


async def test_focused_textarea_keeps_what_the_user_types(blank: Any) -> None:
    got = await run(
        blank,
        '<div lp-id="c1"><textarea id="a">server</textarea>'
        '<textarea id="b">server</textarea></div>',
        """
        const [a, b] = root.querySelectorAll("textarea");
        a.focus();
        a.value = "typing…";
        a.setSelectionRange(1, 3);
        b.value = "not focused";
        morph(root, '<div><textarea id="a">new</textarea><textarea id="b">new b</textarea></div>');
        return [a.value, [a.selectionStart, a.selectionEnd], document.activeElement === a, b.value];
        """,
    )
    assert got == ["typing…", [1, 3], True, "new b"]


async def test_form_state_of_unfocused_fields_follows_new_markup(blank: Any) -> None:
    got = await run(
        blank,
        '<form lp-id="c1"><input type="checkbox" id="c"><input type="radio" name="r" value="1" '
        'id="r1" checked><input type="radio" name="r" value="2" id="r2">'
        '<select id="s"><option value="a">a</option><option value="b">b</option></select>'
        '<select id="m" multiple><option value="x">x</option><option value="y">y</option></select>'
        "</form>",
        """
        root.querySelector("#s").value = "a";
        morph(root, '<form><input type="checkbox" id="c" checked>' +
          '<input type="radio" name="r" value="1" id="r1"><input type="radio" name="r" value="2" ' +
          'id="r2" checked><select id="s"><option value="a">a</option>' +
          '<option value="b" selected>b</option></select><select id="m" multiple>' +
          '<option value="x" selected>x</option><option value="y" selected>y</option>' +
          '</select></form>');
        const q = (s) => root.querySelector(s);
        return [q("#c").checked, q("#r1").checked, q("#r2").checked, q("#s").value,
                [...q("#m").selectedOptions].map((o) => o.value)];
        """,
    )
    assert got == [True, False, True, "b", ["x", "y"]]


async def test_lp_ignore_subtree_is_left_alone(blank: Any) -> None:
    got = await run(
        blank,
        '<div lp-id="c1"><div lp-ignore id="w" class="x"><b>widget</b></div><p>0</p></div>',
        """
        const widget = root.querySelector("#w");
        widget.querySelector("b").textContent = "changed by a JS widget";
        widget.dataset.js = "1";
        morph(root, '<div><div lp-ignore id="w" class="y"><i>server</i></div><p>1</p></div>');
        return [root.querySelector("#w") === widget, widget.outerHTML,
                root.querySelector("p").textContent];
        """,
    )
    assert got == [
        True,
        '<div lp-ignore="" id="w" class="x" data-js="1"><b>changed by a JS widget</b></div>',
        "1",
    ]


async def test_lp_ignore_self_keeps_attributes_but_updates_children(blank: Any) -> None:
    got = await run(
        blank,
        '<div lp-id="c1"><div lp-ignore.self class="js-owned"><span>0</span></div></div>',
        """
        morph(root, '<div><div lp-ignore.self class="server"><span>1</span></div></div>');
        return root.firstElementChild.outerHTML;
        """,
    )
    assert got == '<div lp-ignore.self="" class="js-owned"><span>1</span></div>'


async def test_nested_component_root_is_untouched(blank: Any) -> None:
    got = await run(
        blank,
        '<div lp-id="parent"><h1>0</h1><div lp-id="child" class="c"><span>child 7</span></div>'
        "<p>tail</p></div>",
        """
        const child = root.querySelector('[lp-id="child"]');
        const span = child.querySelector("span");
        morph(root, '<div lp-id="parent"><h1>1</h1><p>new</p>' +
          '<div lp-id="child" class="changed"><span>stale child html</span></div>' +
          '<p>tail</p></div>');
        return {
          sameChild: root.querySelector('[lp-id="child"]') === child,
          sameSpan: child.querySelector("span") === span,
          child: child.outerHTML,
          parent: [...root.children].map((el) => el.tagName + ":" + el.textContent),
        };
        """,
    )
    assert got == {
        "sameChild": True,
        "sameSpan": True,
        "child": '<div lp-id="child" class="c"><span>child 7</span></div>',
        "parent": ["H1:1", "P:new", "DIV:child 7", "P:tail"],
    }


async def test_scroll_positions_survive(blank: Any) -> None:
    got = await run(
        blank,
        '<div lp-id="c1"><p lp-key="p">p</p><div lp-key="s" id="s" style="height:50px;'
        'overflow:auto"><div style="height:500px">tall</div></div></div>',
        """
        document.body.style.height = "5000px";
        window.scrollTo(0, 300);
        const box = root.querySelector("#s");
        box.scrollTop = 120;
        // A keyed move re-inserts the box, which on its own resets its scroll position.
        const probe = box.cloneNode(true);
        document.body.append(probe);
        probe.scrollTop = 80;
        document.body.insertBefore(probe, document.body.firstChild);
        const plainMoveResets = probe.scrollTop === 0;
        probe.remove();
        morph(root, '<div><div lp-key="s" id="s" style="height:50px;overflow:auto">' +
                    '<div style="height:500px">tall</div></div><p lp-key="p">p!</p></div>');
        return {
          moved: root.firstElementChild.tagName, same: root.querySelector("#s") === box,
          plainMoveResets, boxTop: box.scrollTop, windowY: window.scrollY,
        };
        """,
    )
    assert got == {
        "moved": "DIV",
        "same": True,
        "plainMoveResets": True,
        "boxTop": 120,
        "windowY": 300,
    }


async def test_attributes_that_setattribute_refuses_are_copied(blank: Any) -> None:
    got = await run(
        blank,
        '<div lp-id="c1"><button>x</button></div>',
        """
        morph(root, '<div><button @click="open = true" :class="{a: b}">x</button></div>');
        const b = root.querySelector("button");
        return [b.getAttribute("@click"), b.getAttribute(":class")];
        """,
    )
    assert got == ["open = true", "{a: b}"]


async def test_svg_children_are_morphed(blank: Any) -> None:
    got = await run(
        blank,
        '<div lp-id="c1"><svg viewBox="0 0 10 10"><circle r="1"></circle></svg></div>',
        """
        const circle = root.querySelector("circle");
        morph(root, '<div><svg viewBox="0 0 20 20"><circle r="4"></circle></svg></div>');
        const now = root.querySelector("circle");
        return [now === circle, now.getAttribute("r"), now.namespaceURI,
                root.querySelector("svg").getAttribute("viewBox")];
        """,
    )
    assert got == [True, "4", "http://www.w3.org/2000/svg", "0 0 20 20"]
