"""``livepy make NAME``: write a component class, its template and a test to start from."""

from __future__ import annotations

import keyword
import re
from pathlib import Path

from livepy.registry import snake_case

__all__ = ["make_component"]

_COMPONENT = '''"""The {class_name} component."""

from __future__ import annotations

from livepy import Component, action


class {class_name}(Component):
    template = "{snake}.html"
    count: int = 0

    def mount(self, start: int = 0) -> None:
        self.count = start

    @action
    def increment(self) -> None:
        self.count += 1
'''

_TEMPLATE = """<div>
  <span>{{{{ count }}}}</span>
  <button lp-click="increment">+</button>
</div>
"""

_TEST = """from livepy import LivePy

from {module} import {class_name}

live = LivePy(templates=["{templates}"], secret_key="test")


def test_{snake}_increments() -> None:
    live.test({class_name}, start=1).call("increment").assert_see("2")
"""


def make_component(name: str, *, package: Path, templates: Path, tests: Path) -> list[Path]:
    """Create the three files for ``name`` (CamelCase or snake_case); refuse to overwrite."""
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name):
        raise ValueError(f"{name!r} is not a valid component name: use letters, digits and _")
    class_name = "".join(part[:1].upper() + part[1:] for part in name.split("_"))
    snake = snake_case(class_name)
    if keyword.iskeyword(snake):
        raise ValueError(f"{snake!r} is a Python keyword")
    files = {
        package / f"{snake}.py": _COMPONENT.format(class_name=class_name, snake=snake),
        templates / f"{snake}.html": _TEMPLATE.format(),
        tests / f"test_{snake}.py": _TEST.format(
            module=".".join((*package.parts, snake)) if not package.is_absolute() else snake,
            class_name=class_name,
            snake=snake,
            templates=templates.as_posix(),
        ),
    }
    existing = [path for path in files if path.exists()]
    if existing:
        raise FileExistsError(f"not overwriting {', '.join(map(str, existing))}")
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return list(files)
