"""load_example: an example that fails to import fails the same way every time."""

from __future__ import annotations

from pathlib import Path

import pytest

from livepy.demo import load_example


def test_a_broken_example_is_not_cached_half_loaded(tmp_path: Path) -> None:
    (tmp_path / "broken_demo_example").mkdir()
    (tmp_path / "broken_demo_example" / "app.py").write_text("raise RuntimeError('broken')\n")
    for _ in range(2):
        with pytest.raises(RuntimeError, match="broken"):
            load_example("broken_demo_example", examples_dir=tmp_path)
