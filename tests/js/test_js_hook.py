"""js/directives/hook.js: livepy.hook() refuses bad definitions with a clear error."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.browser


async def test_define_hook_refuses_bad_input(blank: Any) -> None:
    got = await blank.evaluate(
        """async () => {
          const { defineHook } = await import('/js/directives/hook.js');
          const attempt = (...args) => {
            try { defineHook(...args); return "ok"; }
            catch (err) { return [err.constructor.name, err.message]; }
          };
          return [
            attempt("", {}),
            attempt("A", null),
            attempt("A", { mounted: 3 }),
            attempt("A", { mounted() {} }),
            attempt("A", {}),
          ];
        }"""
    )
    assert got == [
        ["TypeError", "livepy.hook(name, definition) needs a non-empty name"],
        ["TypeError", 'livepy.hook("A", definition): the definition must be an object'],
        ["TypeError", 'livepy.hook("A"): mounted must be a function'],
        "ok",
        ["Error", 'livepy.hook("A") is already defined'],
    ]
