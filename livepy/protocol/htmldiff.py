"""Render diffs: edits that turn the html a client holds into the new html.

A diff is ``[crc, pos1, del1, ins1, pos2, ...]``: positions and lengths in UTF-16 code
units (the browser's string indices) of the *old* html, ascending and disjoint; the
client applies them right to left and checks ``crc`` (CRC-32 of the new html's UTF-8,
low 16 bits) before trusting the result. Strategy: trim the common prefix and suffix,
which alone captures most updates (one counter, one cell, one appended row); when the
changed middle is still large, match html tokens inside it to split it into small edits.

An inserted text may instead be a list of parts: a string is literal text, two integers
``start, length`` copy that span of the old html. New markup mostly repeats markup the
client already holds (an appended row looks like the row before it), so a long insert
is rebuilt from copies of its neighbourhood and only what is really new travels.
"""

from __future__ import annotations

import re
import zlib
from difflib import SequenceMatcher
from typing import Any

__all__ = ["apply_diff", "checksum", "common_prefix", "diff_html"]

# A token is a start tag with the text and end tags that follow it, up to the next start
# tag: coarse enough that repeated markup (</td>, <tr>) does not make matching quadratic,
# fine enough that one changed cell is one small edit. Measured on a 200-row table: 1,201
# tokens, 1-15 ms per diff, where single tags and words made 3,402 tokens and 0.9-4.8 s.
_TOKEN = re.compile(r"<(?!/)[^<]*(?:</[^<]*)*|[^<]+|<")
_MIDDLE_WORTH_SPLITTING = 64
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")  # two UTF-16 units each in the browser
_MAX_TOKENS = 8000  # beyond this the token matcher costs more than the bytes it saves
# Copies: an insert shorter than this is sent as it is; a copy shorter than _MIN_COPY costs
# more (two integers, 3-5 bytes) than the text it replaces. Matches are searched in the
# old html around the edit only, with a bounded number of searches per insert.
_COPY_WORTH_TRYING = 24
_MAX_COPY_INSERT = 16384
_MIN_COPY = 6
_COPY_WINDOW = 1024
_COPY_SEARCHES = 400


def checksum(html: str) -> int:
    return zlib.crc32(html.encode("utf-8", "surrogatepass")) & 0xFFFF


def common_prefix(a: str, b: str, limit: int) -> int:
    """Length of the common prefix, by binary search over slice comparisons (memcmp speed)."""
    low, high = 0, limit
    while low < high:
        mid = (low + high + 1) // 2
        if a[:mid] == b[:mid]:
            low = mid
        else:
            high = mid - 1
    return low


def _common_suffix(a: str, b: str, limit: int) -> int:
    low, high = 0, limit
    la, lb = len(a), len(b)
    while low < high:
        mid = (low + high + 1) // 2
        if a[la - mid :] == b[lb - mid :]:
            low = mid
        else:
            high = mid - 1
    return low


def _edits(old: str, new: str) -> list[tuple[int, int, str]]:
    """(position, deleted length, inserted text) in code points of ``old``."""
    limit = min(len(old), len(new))
    prefix = common_prefix(old, new, limit)
    suffix = _common_suffix(old, new, limit - prefix)
    old_mid = old[prefix : len(old) - suffix]
    new_mid = new[prefix : len(new) - suffix]
    if len(old_mid) < _MIDDLE_WORTH_SPLITTING or not new_mid:
        return [(prefix, len(old_mid), new_mid)]
    a = _TOKEN.findall(old_mid)
    b = _TOKEN.findall(new_mid)
    if len(a) + len(b) > _MAX_TOKENS:
        return [(prefix, len(old_mid), new_mid)]
    a_at = [0]
    for token in a:
        a_at.append(a_at[-1] + len(token))
    b_at = [0]
    for token in b:
        b_at.append(b_at[-1] + len(token))
    edits = []
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            edits.append((prefix + a_at[i1], a_at[i2] - a_at[i1], new_mid[b_at[j1] : b_at[j2]]))
    return edits


def diff_html(old: str, new: str) -> list[Any] | None:
    """The diff from ``old`` to ``new``, or None when sending ``new`` whole is as small."""
    edits = _edits(old, new)
    astral = not old.isascii() and _ASTRAL.search(old) is not None
    if astral:  # copies would need UTF-16 offsets of every match: send such inserts as text
        edits = [_to_utf16(old, pos, length, text) for pos, length, text in edits]
    body: list[Any] = [checksum(new)]
    cost = 3
    for pos, length, text in edits:
        insert: str | list[Any] = text
        if not astral and _COPY_WORTH_TRYING <= len(text) <= _MAX_COPY_INSERT:
            insert = _with_copies(old, pos, length, text)
        body += [pos, length, insert]
        cost += 8 + _insert_cost(insert)
    # (UTF-8 takes at least a byte per code point: most diffs need no second encode)
    if cost >= len(new) and cost >= len(new.encode("utf-8", "surrogatepass")):
        return None
    return body


def _insert_cost(insert: str | list[Any]) -> int:
    if isinstance(insert, str):
        return len(insert.encode("utf-8", "surrogatepass"))
    return 3 + sum(
        len(part.encode("utf-8", "surrogatepass")) + 2 if isinstance(part, str) else 3
        for part in insert
    )


def _with_copies(old: str, pos: int, length: int, text: str) -> str | list[Any]:
    """``text`` as literal parts and copies of the old html near the edit, if that is smaller."""
    low = max(0, pos - _COPY_WINDOW)
    window = old[low : min(len(old), pos + length + _COPY_WINDOW)]
    parts: list[Any] = []
    literal_from = 0
    at = 0
    searches = 0
    end = len(text)
    while at <= end - _MIN_COPY and searches < _COPY_SEARCHES:
        found = window.find(text[at : at + _MIN_COPY])
        searches += 1
        if found < 0:
            at += 1
            continue
        # The longest prefix of text[at:] found in the window: "occurs" is monotone in length.
        shortest, longest = _MIN_COPY, end - at
        while shortest < longest and searches < _COPY_SEARCHES:
            middle = (shortest + longest + 1) // 2
            where = window.find(text[at : at + middle])
            searches += 1
            if where >= 0:
                shortest, found = middle, where
            else:
                longest = middle - 1
        if at > literal_from:
            parts.append(text[literal_from:at])
        parts += [low + found, shortest]
        at += shortest
        literal_from = at
    if literal_from < end:
        parts.append(text[literal_from:])
    if len(parts) == 1 or _insert_cost(parts) >= _insert_cost(text):
        return text
    return parts


def _expand(old: str, insert: str | list[Any]) -> str:
    """The text of an insert: literal parts, and ``start, length`` copies of ``old``."""
    if isinstance(insert, str):
        return insert
    pieces: list[str] = []
    index = 0
    while index < len(insert):
        part = insert[index]
        if isinstance(part, str):
            pieces.append(part)
            index += 1
            continue
        start, length = part, insert[index + 1]
        if start < 0 or length <= 0 or start + length > len(old):
            raise ValueError(f"a copy of {length} at {start} does not fit the old html")
        pieces.append(old[start : start + length])
        index += 2
    return "".join(pieces)


def _utf16_len(text: str) -> int:
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def _to_utf16(old: str, pos: int, length: int, text: str) -> tuple[int, int, str]:
    return _utf16_len(old[:pos]), _utf16_len(old[pos : pos + length]), text


def apply_diff(old: str, diff: list[Any]) -> str:
    """Apply a diff the way the browser does (UTF-16 indices); used by tests and tools."""
    units = old.encode("utf-16-le", "surrogatepass")
    ops = diff[1:]
    for index in range(len(ops) - 3, -1, -3):
        pos, length, text = ops[index], ops[index + 1], ops[index + 2]
        inserted = _expand(old, text).encode("utf-16-le", "surrogatepass")
        units = units[: pos * 2] + inserted + units[(pos + length) * 2 :]
    result = units.decode("utf-16-le", "surrogatepass")
    if checksum(result) != diff[0]:
        raise ValueError("checksum mismatch: the html the diff was made against differs")
    return result
