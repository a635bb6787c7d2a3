"""The complete example in docs/howto/testing.md, run as written, so that the page cannot rot."""

from __future__ import annotations

import re
import sys
import types
from collections.abc import Callable
from pathlib import Path

import pytest

DOC = Path(__file__).parent.parent / "docs" / "howto" / "testing.md"
MARKER = "<!-- tests/test_testing_doc.py runs the next code block -->"


def doc_example() -> str:
    """The python block right after the marker comment."""
    text = DOC.read_text(encoding="utf-8")
    assert MARKER in text, f"{DOC} lost its marker comment"
    match = re.match(r"\s*```python\n(.*?)\n```", text.split(MARKER, 1)[1], re.S)
    assert match is not None, f"no python block after the marker in {DOC}"
    return match.group(1)


def load_example() -> types.ModuleType:
    # One module name, so a second load re-registers the same components instead of clashing.
    module = types.ModuleType("docs_howto_testing_example")
    module.__file__ = str(DOC)
    sys.modules[module.__name__] = module
    exec(compile(doc_example(), str(DOC), "exec"), module.__dict__)
    return module


EXAMPLE = load_example()
TESTS: dict[str, Callable[[], None]] = {
    name: value
    for name, value in vars(EXAMPLE).items()
    if name.startswith("test_") and callable(value)
}


def test_the_example_shows_every_assertion_the_page_promises() -> None:
    source = doc_example()
    for needed in (
        "live.test(Stepper, start=1)",
        '.set("step", 2).call("increment").assert_see("3").assert_set("count", 3)',
        "assert_dispatched(",
        "assert_has_errors(",
        "assert_redirect(",
    ):
        assert needed in source, needed
    assert len(TESTS) == 4


@pytest.mark.parametrize("name", sorted(TESTS))
def test_doc_example(name: str) -> None:
    TESTS[name]()
