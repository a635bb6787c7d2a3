"""js/expression.js: directive expressions are parsed as literals, never evaluated."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.browser


async def parse(page: Any, source: str) -> Any:
    return await page.evaluate(
        """async (src) => {
          const { parseCall } = await import('/js/expression.js');
          try { return {ok: parseCall(src)}; }
          catch (err) { return {error: [err.constructor.name, err.message]}; }
        }""",
        source,
    )


GOOD = {
    "increment": ("increment", []),
    "  increment  ": ("increment", []),
    "increment()": ("increment", []),
    "increment(5)": ("increment", [5]),
    "remove('a', 2, true, null)": ("remove", ["a", 2, True, None]),
    'say("double \\"quoted\\"", \'it\\\'s\')': ("say", ['double "quoted"', "it's"]),
    "say('tab\\tnew\\nline\\\\ \\u00e9 \\/')": ("say", ["tab\tnew\nline\\ é /"]),
    "say('x, y)', \"(\")": ("say", ["x, y)", "("]),
    "nums(-1, 0, 2.5, -0.5, 1e3, 2E-2, 10)": ("nums", [-1, 0, 2.5, -0.5, 1000, 0.02, 10]),
    "$refresh": ("$refresh", []),
    "$set('name', 'Ada')": ("$set", ["name", "Ada"]),
    "_private_9(false)": ("_private_9", [False]),
    "save([1, 'two', [3]], {a: 1, 'b c': [true], \"d\": {e: null}})": (
        "save",
        [[1, "two", [3]], {"a": 1, "b c": [True], "d": {"e": None}}],
    ),
    "save([], {})": ("save", [[], {}]),
    " move ( 1 ,\n 2 ) ": ("move", [1, 2]),
}


@pytest.mark.parametrize("source", list(GOOD))
async def test_good_expressions(blank: Any, source: str) -> None:
    method, args = GOOD[source]
    assert await parse(blank, source) == {"ok": {"method": method, "args": args}}


BAD = [
    "",
    "   ",
    "1abc",
    "foo(",
    "foo(1,)",
    "foo(,1)",
    "foo(bar)",
    "foo(alert(1))",
    "foo(window.hacked = 1)",
    "foo('unterminated)",
    "foo(1) extra",
    "foo(1); bar()",
    "foo(1 2)",
    "foo(-)",
    "foo(+1)",
    "foo(.5)",
    "foo(01)",
    "foo(NaN)",
    "foo(Infinity)",
    "foo(undefined)",
    "foo(`tpl`)",
    "foo({a: 1,})",
    "foo({a})",
    "foo({[k]: 1})",
    "foo([1 2])",
    "foo('\\u12')",
    "a.b()",
    "foo()()",
    "foo(" + "[" * 40 + "]" * 40 + ")",
]


@pytest.mark.parametrize("source", BAD)
async def test_bad_expressions_throw_clear_errors(blank: Any, source: str) -> None:
    got = await parse(blank, source)
    assert "error" in got, got
    kind, message = got["error"]
    assert kind == "Error"
    assert message.startswith(f'livepy: cannot parse "{source}": expected ')
    assert " at position " in message


async def test_error_names_position(blank: Any) -> None:
    got = await parse(blank, "foo(1, bar)")
    assert got["error"][1] == (
        'livepy: cannot parse "foo(1, bar)": expected a literal (number, string, true, false, '
        'null, array or object) at position 7, found "b"'
    )


async def test_nothing_is_evaluated(blank: Any) -> None:
    got = await blank.evaluate(
        """async () => {
          const { parseCall } = await import('/js/expression.js');
          const calls = [];
          const realEval = window.eval, RealFunction = window.Function;
          window.eval = (...a) => { calls.push("eval"); return realEval(...a); };
          window.Function = function (...a) { calls.push("Function"); return RealFunction(...a); };
          const attempts = ["f(window.hacked = 1)", "f(hacked = 1)", "f((() => { hacked = 1 })())",
                            "f('a' + (hacked = 1))", "f({a: hacked = 1})"];
          const outcomes = attempts.map((src) => {
            try { parseCall(src); return "parsed"; } catch (err) { return "refused"; }
          });
          const ok = parseCall("f('window.hacked = 1', \\"eval('x')\\")");
          window.eval = realEval; window.Function = RealFunction;
          return {outcomes, calls, hacked: window.hacked ?? null, ok};
        }"""
    )
    assert got == {
        "outcomes": ["refused"] * 5,
        "calls": [],
        "hacked": None,
        "ok": {"method": "f", "args": ["window.hacked = 1", "eval('x')"]},
    }


async def test_object_literal_keys_cannot_pollute(blank: Any) -> None:
    got = await blank.evaluate(
        """async () => {
          const { parseCall } = await import('/js/expression.js');
          const { args } = parseCall("f({__proto__: {polluted: 1}, 'constructor': 2})");
          return {
            own: Object.hasOwn(args[0], "__proto__"),
            inner: args[0]["__proto__"].polluted,
            plainProto: Object.getPrototypeOf(args[0]) === Object.prototype,
            leaked: ({}).polluted ?? null,
            ctor: args[0].constructor,
          };
        }"""
    )
    assert got == {"own": True, "inner": 1, "plainProto": True, "leaked": None, "ctor": 2}


async def test_parse_literal(blank: Any) -> None:
    got = await blank.evaluate(
        """async () => {
          const { parseLiteral } = await import('/js/expression.js');
          let bad;
          try { parseLiteral("1 2"); } catch (err) { bad = err.message; }
          return [parseLiteral(" [1, 'a', {b: false}] "), parseLiteral("-3.5"), bad];
        }"""
    )
    assert got[:2] == [[1, "a", {"b": False}], -3.5]
    assert got[2].startswith('livepy: cannot parse "1 2": expected the end at position 2')
