"""The files shown under "livepy make" in docs/reference/api.md are what the command writes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from livepy.scaffold import make_component

API = Path(__file__).parent.parent / "docs" / "reference" / "api.md"


def test_the_reference_shows_what_livepy_make_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    section = API.read_text(encoding="utf-8").split("## `livepy make`\n", 1)[1]
    blocks = re.findall(r"`([\w/.]+)`[^\n]*:\n\n```\w+\n(.*?)```", section, re.S)
    shown = {name: text for name, text in blocks}
    monkeypatch.chdir(tmp_path)  # the defaults are relative, as on the command line
    written = make_component(
        "Greeting", package=Path("components"), templates=Path("templates"), tests=Path("tests")
    )
    assert sorted(shown) == sorted(path.as_posix() for path in written)
    for path in written:
        assert shown[path.as_posix()] == path.read_text(), path
