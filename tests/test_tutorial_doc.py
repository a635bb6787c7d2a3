"""The tutorial's code blocks are the counter and todos examples, which the browser tests run.

docs/tutorial/first-component.md builds examples/counter/ and examples/todos/ step by step. If
an example changes, the tutorial must change with it, or a reader's copy stops matching.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).parent.parent
TUTORIAL = ROOT / "docs" / "tutorial" / "first-component.md"


def blocks(language: str) -> list[str]:
    text = TUTORIAL.read_text(encoding="utf-8")
    return [
        body for lang, body in re.findall(r"```(\w*)\n(.*?)```", text, re.S) if lang == language
    ]


def example(path: str) -> str:
    return (ROOT / "examples" / path).read_text(encoding="utf-8")


def test_the_python_blocks_are_the_examples_code() -> None:
    _imports, counter, page_and_app, slow_action, todos = blocks("python")
    # the slow action is added at the end of the Counter class (section "A slow action")
    assert counter.rstrip("\n") + "\n\n" + slow_action in example("counter/app.py")
    assert page_and_app in example("counter/app.py")
    assert todos in example("todos/app.py")


def test_the_templates_are_the_examples_templates() -> None:
    counter, _home, slow_button, todos, _embed = blocks("jinja")
    with_slow_button = counter.replace("</div>\n", slow_button + "</div>\n")
    assert with_slow_button == example("counter/templates/counter.html")
    assert todos == example("todos/templates/todos.html")
