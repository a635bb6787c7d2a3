"""Where the runtime JS, shared templates and examples live: in the wheel, or in a checkout."""

from __future__ import annotations

from pathlib import Path

__all__ = ["EXAMPLES_DIR", "JS_DIR", "TEMPLATES_DIR"]

_PACKAGE = Path(__file__).resolve().parent
_CHECKOUT = _PACKAGE.parent


def _find(name: str) -> Path:
    installed = _PACKAGE / "static" / name
    return installed if installed.is_dir() else _CHECKOUT / name


JS_DIR = _find("js")
TEMPLATES_DIR = _find("templates")
EXAMPLES_DIR = _find("examples")
