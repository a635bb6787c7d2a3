"""Snapshot state patches: the smallest list of edits that turns the old state into the new.

Ops, applied in order to plain data (maps, arrays, scalars):
``[path, value]`` sets, ``[path]`` deletes a map key, ``[path, start, delete, items]``
splices an array. A path is a list of map keys and array indices. A client applies the
ops to its copy of the state and so always holds what the server would sign.
"""

from __future__ import annotations

from typing import Any

import msgpack

__all__ = ["apply_ops", "diff_state"]

Path = list[str | int]


def _same(a: Any, b: Any) -> bool:
    """Equal on the wire: 1, 1.0 and True are equal in Python but not in msgpack.

    ``==`` runs at C speed but cannot tell them apart inside containers; containers it
    finds equal are confirmed by comparing their encodings (also C speed).
    """
    if type(a) is not type(b) or a != b:
        return False
    if isinstance(a, list | dict):
        return _same_encoding(a, b)
    return True


def _same_exactly(a: Any, b: Any) -> bool:
    """``_same`` without encoding: item by item (for values msgpack cannot encode)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(_same_exactly(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same_exactly(v, b[k]) for k, v in a.items())
    return bool(a == b)


def _same_encoding(a: Any, b: Any) -> bool:
    try:
        return msgpack.packb(a) == msgpack.packb(b)  # type: ignore[no-any-return]
    except (OverflowError, TypeError, ValueError):
        return _same_exactly(a, b)


def _same_run(old: list[Any], new: list[Any]) -> bool:
    """Whether two runs of items that ``==`` already matched are also equal on the wire."""
    return _same_encoding(old, new)


def _quick(a: Any, b: Any) -> bool:
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
            equal = [_quick(a, b) for a, b in zip(old, new, strict=True)]
            if not _same_run(
                [a for a, same in zip(old, equal, strict=True) if same],
                [b for b, same in zip(new, equal, strict=True) if same],
            ):
                equal = [_same(a, b) for a, b in zip(old, new, strict=True)]
            ops = []
            for index, same in enumerate(equal):
                if not same:
                    ops.extend(diff_state(old[index], new[index], [*path, index]))
            return ops
        limit = min(len(old), len(new))
        start = 0
        while start < limit and _quick(old[start], new[start]):
            start += 1
        end = 0
        while end < limit - start and _quick(old[-1 - end], new[-1 - end]):
            end += 1
        if not (
            _same_run(old[:start], new[:start])
            and _same_run(old[len(old) - end :], new[len(new) - end :])
        ):  # a 1 that became True hides in the matched runs: match them exactly
            start = 0
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
