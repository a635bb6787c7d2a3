"""The one-root-element rule, and tagging that root with the component id and snapshot.

This runs on every render, so it scans tags with one compiled regex (C speed) rather than
a character-level HTML parser: a start or end tag, a comment, or the raw text of
``<script>``/``<style>``/``<textarea>``/``<title>`` (which may contain ``<`` freely).
"""

from __future__ import annotations

import re
from html import escape

from livepy.exceptions import RenderError

__all__ = ["tag_root"]

_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input"}
    | {"link", "meta", "param", "source", "track", "wbr"}
)
_RAW_TEXT = frozenset({"script", "style", "textarea", "title"})
_TAG = re.compile(
    r"<!--.*?-->"  # comment
    r"|<(/?)([a-zA-Z][^\s/>]*)((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>",  # tag, quoted > allowed
    re.S,
)


_RAW_END = {tag: re.compile(rf"</{tag}\s*>", re.I) for tag in _RAW_TEXT}


def tag_root(html: str, attributes: dict[str, str], *, component: str, template: str) -> str:
    """Return ``html`` with ``attributes`` added to its single root element.

    Raises RenderError naming the component and template when there is not exactly
    one root element.
    """
    depth = roots = 0
    insert_at = -1
    stray = ""
    position = 0
    while True:
        match = _TAG.search(html, position)
        if depth == 0 and not stray:
            text = html[position : match.start() if match else len(html)].strip()
            stray = text[:40]
        if match is None:
            break
        position = match.end()
        closing, name, rest = match.groups()
        if name is None:
            continue  # a comment
        tag = name.lower()
        if closing:
            depth = max(0, depth - 1)
            continue
        if depth == 0:
            roots += 1
            if insert_at < 0:
                insert_at = match.start(2) + len(name)
        if tag in _VOID or rest.rstrip().endswith("/"):
            continue
        if tag in _RAW_TEXT:  # its content is text, whatever it looks like
            close = _RAW_END[tag].search(html, position)
            position = close.end() if close else len(html)
            continue
        depth += 1
    if roots != 1 or stray or insert_at < 0:
        if roots == 0:
            found = "no element"
        elif stray:
            found = f"text outside the root element ({stray!r})"
        else:
            found = f"{roots} top-level elements"
        raise RenderError(
            f"component {component!r} (template {template}) must render exactly one root "
            f"element, but rendered {found}; wrap the template in a single <div>"
        )
    extra = "".join(f' {name}="{escape(value, quote=True)}"' for name, value in attributes.items())
    return html[:insert_at] + extra + html[insert_at:]
