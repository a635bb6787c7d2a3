"""The one-root-element rule, and tagging that root with the component id and snapshot."""

from __future__ import annotations

from html import escape
from html.parser import HTMLParser

from livepy.exceptions import RenderError

__all__ = ["tag_root"]

_VOID = frozenset(
    [
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
    ]
)


class _RootScanner(HTMLParser):
    """Counts top-level elements and finds where the first start tag's name ends."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.depth = 0
        self.roots = 0
        self.stray_text = ""
        self.first_tag_end: tuple[int, int] | None = None
        self.first_tag = ""

    def _start(self, tag: str, self_closing: bool) -> None:
        if self.depth == 0:
            self.roots += 1
            if self.first_tag_end is None:
                line, col = self.getpos()
                self.first_tag_end = (line, col + 1 + len(tag))
                self.first_tag = tag
        if not self_closing and tag not in _VOID:
            self.depth += 1

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start(tag, False)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start(tag, True)

    def handle_endtag(self, tag: str) -> None:
        if tag not in _VOID and self.depth > 0:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.depth == 0 and data.strip() and not self.stray_text:
            self.stray_text = data.strip()[:40]

    def handle_entityref(self, name: str) -> None:
        self.handle_data("&" + name)

    def handle_charref(self, name: str) -> None:
        self.handle_data("&#" + name)


def _offset(html: str, line: int, col: int) -> int:
    offset = 0
    for _ in range(line - 1):
        offset = html.index("\n", offset) + 1
    return offset + col


def tag_root(html: str, attributes: dict[str, str], *, component: str, template: str) -> str:
    """Return ``html`` with ``attributes`` added to its single root element.

    Raises RenderError naming the component and template when there is not exactly
    one root element.
    """
    scanner = _RootScanner()
    scanner.feed(html)
    scanner.close()
    where = f"component {component!r} (template {template})"
    if scanner.roots != 1 or scanner.stray_text or scanner.first_tag_end is None:
        if scanner.roots == 0:
            found = "no element"
        elif scanner.stray_text:
            found = f"text outside the root element ({scanner.stray_text!r})"
        else:
            found = f"{scanner.roots} top-level elements"
        raise RenderError(
            f"{where} must render exactly one root element, but rendered {found}; "
            "wrap the template in a single <div>"
        )
    at = _offset(html, *scanner.first_tag_end)
    extra = "".join(f' {name}="{escape(value, quote=True)}"' for name, value in attributes.items())
    return html[:at] + extra + html[at:]
