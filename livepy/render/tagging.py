"""The one-root-element rule, and tagging that root with the component id and snapshot.

This runs on every render, so it scans tags with one compiled regex (C speed) rather than
a character-level HTML parser: a start or end tag, a comment, or the raw text of
``<script>``/``<style>``/``<textarea>``/``<title>`` (which may contain ``<`` freely).

A re-render mostly changes text inside the root (a counter's number, a cell's value): the
last html of each template that passed the check is kept, and new html that differs from it
only by such text has the same tags, so it passes without a scan (see ``_same_tags``).
"""

from __future__ import annotations

import re
from html import escape

from livepy.exceptions import RenderError
from livepy.protocol.htmldiff import common_prefix

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
    verified = _verified.get(template)
    insert_at = _same_tags(verified, html) if verified is not None else None
    if insert_at is None and _NEEDS_FULL_SCAN.search(html) is None:
        found = _single_root_fast(html)
        if found is not None:
            insert_at = found[0]
            if len(_verified) >= _MAX_VERIFIED:
                _verified.clear()
            _verified[template] = (html, *found)
    if insert_at is not None:
        extra = "".join(
            f' {name}="{escape(value, quote=True)}"' for name, value in attributes.items()
        )
        return html[:insert_at] + extra + html[insert_at:]
    return _tag_root_scan(html, attributes, component=component, template=template)


# template -> (html that passed the fast check, where its root's tag name ends, where its
# root's start tag ends): one entry per template.
_verified: dict[str, tuple[str, int, int]] = {}
_MAX_VERIFIED = 1024  # templates are few; the bound only guards against generated names
_TAG_TEXT = frozenset("<>\"'")


def _same_tags(verified: tuple[str, int, int], html: str) -> int | None:
    """Where the root's tag name ends in ``html`` when it has exactly the verified html's tags.

    That holds when the two differ only in text inside the root's content, outside any tag,
    up to the next ``<`` (which starts the same rest in both), with no ``>`` or quote in it
    on either side: such a change can neither make nor unmake a tag, an attribute value or a
    comment. Otherwise None (the caller scans).
    """
    old, insert_at, inner_start = verified
    if html == old:
        return insert_at
    prefix = common_prefix(old, html, min(len(old), len(html)))
    if prefix < inner_start:
        return None
    old_next, new_next = old.find("<", prefix), html.find("<", prefix)
    if old_next < 0 or new_next < 0 or len(old) - old_next != len(html) - new_next:
        return None
    if not html.endswith(old[old_next:]):  # the same rest from the next tag on
        return None
    if not _TAG_TEXT.isdisjoint(old[prefix:old_next]):
        return None
    if not _TAG_TEXT.isdisjoint(html[prefix:new_next]):
        return None
    if old.rfind("<", 0, prefix) > old.rfind(">", 0, prefix):
        return None  # the change starts inside a tag
    return insert_at


def _single_root_fast(html: str) -> tuple[int, int] | None:
    """Where the root's tag name ends and where its start tag ends, when html is plainly one
    element; None to look closer.

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
    return first.start(2) + len(first.group(2)), first.end()


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
