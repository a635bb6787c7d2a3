"""Snapshot state patches: the smallest list of edits that turns the old state into the new.

Ops, applied in order to plain data (maps, arrays, scalars):
``[path, value]`` sets, ``[path]`` deletes a map key, ``[path, start, delete, items]``
splices an array. A path is a list of map keys and array indices. A client applies the
ops to its copy of the state and so always holds what the server would sign.
"""

from __future__ import annotations

from typing import Any

__all__ = ["apply_ops", "diff_state"]

Path = list[str | int]


def _same(a: Any, b: Any) -> bool:
    # 1, 1.0 and True are equal in Python but not on the wire.
    return type(a) is type(b) and a == b


def diff_state(old: Any, new: Any, path: Path | None = None) -> list[list[Any]]:
    path = [] if path is None else path
    if isinstance(old, dict) and isinstance(new, dict):
        ops: list[list[Any]] = []
        for key in old:
            if key not in new:
                ops.append([[*path, key]])
        for key, value in new.items():
            if key not in old:
                ops.append([[*path, key], value])
            elif not _same(old[key], value):
                ops.extend(diff_state(old[key], value, [*path, key]))
        return ops
    if isinstance(old, list) and isinstance(new, list) and path:
        if len(old) == len(new):
            ops = []
            for index, (a, b) in enumerate(zip(old, new, strict=True)):
                if not _same(a, b):
                    ops.extend(diff_state(a, b, [*path, index]))
            return ops
        start = 0
        limit = min(len(old), len(new))
        while start < limit and _same(old[start], new[start]):
            start += 1
        end = 0
        while end < limit - start and _same(old[-1 - end], new[-1 - end]):
            end += 1
        return [[path, start, len(old) - start - end, new[start : len(new) - end]]]
    if _same(old, new):
        return []
    if not path:
        raise ValueError("the state root must stay a map")
    return [[path, new]]


def _parent(root: Any, path: Path) -> Any:
    node = root
    for key in path[:-1]:
        node = node[key]
    return node


def apply_ops(state: dict[str, Any], ops: list[list[Any]]) -> dict[str, Any]:
    """Apply ops in place and return ``state`` (used by test clients; the browser has its own)."""
    for op in ops:
        path = op[0]
        if len(op) == 1:
            del _parent(state, path)[path[-1]]
        elif len(op) == 2:
            _parent(state, path)[path[-1]] = op[1]
        else:
            _, start, delete, items = op
            target = _parent(state, path)[path[-1]]
            target[start : start + delete] = items
    return state
