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


_NEEDS_FULL_SCAN = re.compile(r"<(?:!--|(?:script|style|textarea|title)\b)", re.I)
# Attribute text is consumed in runs ([^>"'/]+), not one character per step: twice as fast.
_TAG_SKELETON = re.compile(r"""<(/?)([a-zA-Z][^\s/>]*)(?:[^>"'/]+|"[^"]*"|'[^']*'|/(?!>))*(/?)>""")


def tag_root(html: str, attributes: dict[str, str], *, component: str, template: str) -> str:
    """Return ``html`` with ``attributes`` added to its single root element.

    Raises RenderError naming the component and template when there is not exactly
    one root element.
    """
    if _NEEDS_FULL_SCAN.search(html) is None:
        insert_at = _single_root_fast(html)
        if insert_at is not None:
            extra = "".join(
                f' {name}="{escape(value, quote=True)}"' for name, value in attributes.items()
            )
            return html[:insert_at] + extra + html[insert_at:]
    return _tag_root_scan(html, attributes, component=component, template=template)


def _single_root_fast(html: str) -> int | None:
    """Where the root's tag name ends, when html is plainly one element; None to look closer.

    Without comments or raw-text elements, the tag skeleton (found by one C-speed regex)
    tells it: the depth returns to zero only after the last tag, and nothing but white
    space lies outside.
    """
    tags = _TAG_SKELETON.findall(html)
    if not tags:
        return None
    depth = 0
    last = len(tags) - 1
    for index, (closing, name, self_closing) in enumerate(tags):
        if closing:
            depth -= 1
        elif not self_closing and name.lower() not in _VOID:
            depth += 1
        if depth <= 0 and index != last:
            return None  # a second root, a stray close tag, or text: let the full scan say
    if depth != 0:
        return None
    first = _TAG_SKELETON.search(html)
    if first is None or html[: first.start()].strip() or not html.rstrip().endswith(">"):
        return None  # text before the root, or after it
    return first.start(2) + len(first.group(2))


def _tag_root_scan(html: str, attributes: dict[str, str], *, component: str, template: str) -> str:
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
