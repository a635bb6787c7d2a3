"""Streams: append, prepend and remove items of a long list without keeping them anywhere.

``self.stream("messages", items, at="end")`` renders each item once, through the macro the
template names (``{{ stream("messages", message_row) }}`` inside an element marked
``lp-stream="messages"``), and sends the html to the browser in a ``stream`` effect. The
browser inserts it into the container and owns those children from then on: the morph of
the component leaves them alone. The server forgets the items as soon as they are
rendered, so neither the instance nor the snapshot ever holds them. On the first page
render (no browser runtime yet) the items are rendered inline, so the page works as HTML.

Effect value, one per stream and request: ``{"name": ..., "ops": [...], "limit": n | None}``
with ops ``["reset"]``, ``["insert", "end" | "start", [[key, html], ...]]`` and
``["delete", [key, ...]]``, applied in order by ``js/stream.js``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from markupsafe import Markup

from livepy.features.hooks import Hook
from livepy.protocol import constants as c
from livepy.render.tagging import tag_root

if TYPE_CHECKING:
    from livepy.component import Component

__all__ = ["STREAM_EFFECT", "StreamsHook", "stream", "stream_remove", "stream_reset"]

logger = logging.getLogger("livepy.streams")

STREAM_EFFECT = "stream"
_PENDING = "$streams"  # instance.__dict__ keys: never state
_LIVE = "$streams_live"  # set once a request (not a first page render) works on the instance
_HAS_KEY = re.compile(r"\s*<[^>]*?\s" + c.ATTR_KEY + r"\s*=", re.S)

Key = str | Callable[[Any], Any]


@dataclass
class _Pending:
    """What one request did to one stream, until the render sends it."""

    ops: list[list[Any]] = field(default_factory=list)  # inserts hold items until rendered
    limit: int | None = None


def _pending(instance: Component, name: str) -> _Pending:
    streams: dict[str, _Pending] = instance.__dict__.setdefault(_PENDING, {})
    return streams.setdefault(name, _Pending())


def _key_of(item: Any, key: Key) -> str:
    if callable(key):
        value = key(item)
    elif isinstance(item, dict):
        value = item.get(key)
    else:
        value = getattr(item, key, None)
    if value is None:
        raise ValueError(f"stream item {item!r} has no {key!r} to key it by; pass key=")
    return str(value)


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not name or len(name) > 100:
        raise ValueError("a stream name is a non-empty string (at most 100 characters)")


def stream(
    instance: Component,
    name: str,
    items: Iterable[Any] = (),
    *,
    at: Literal["end", "start"] = "end",
    reset: bool = False,
    limit: int | None = None,
    key: Key = "id",
) -> None:
    """Insert ``items`` at the ``end`` or ``start`` of stream ``name`` (see Component.stream)."""
    _check_name(name)
    if at not in ("end", "start"):
        raise ValueError(f"stream at= must be 'end' or 'start', not {at!r}")
    if limit is not None and (not isinstance(limit, int) or limit < 1):
        raise ValueError("stream limit= must be a positive integer")
    pending = _pending(instance, name)
    if reset:
        pending.ops = [["reset"]]
    batch = [(_key_of(item, key), item) for item in items]
    if batch:
        pending.ops.append(["insert", at, batch])
    if limit is not None:
        pending.limit = limit


def stream_remove(instance: Component, name: str, *items_or_keys: Any, key: Key = "id") -> None:
    """Remove items (or their keys) from the browser's copy of stream ``name``."""
    _check_name(name)
    keys = [str(x) if isinstance(x, str | int) else _key_of(x, key) for x in items_or_keys]
    if keys:
        _pending(instance, name).ops.append(["delete", keys])


def stream_reset(instance: Component, name: str) -> None:
    """Empty stream ``name`` in the browser."""
    _check_name(name)
    _pending(instance, name).ops = [["reset"]]


def _render_item(macro: Callable[[Any], Any], key: str, item: Any) -> str:
    html = str(macro(item)).strip()
    if _HAS_KEY.match(html):
        return html
    return tag_root(html, {c.ATTR_KEY: key}, component="stream item", template="stream macro")


def _inline(pending: _Pending, rendered: list[list[Any]]) -> str:
    """The items of a first page render in their final order (as js/stream.js would place them)."""
    items: list[tuple[str, str]] = []
    last_at = "end"
    for op in rendered:
        if op[0] == "reset":
            items = []
        elif op[0] == "delete":
            items = [(k, h) for k, h in items if k not in op[1]]
        else:
            last_at = op[1]
            fresh = {k for k, _ in op[2]}
            items = [(k, h) for k, h in items if k not in fresh]
            items = [*op[2], *items] if last_at == "start" else [*items, *op[2]]
    if pending.limit is not None and len(items) > pending.limit:
        items = items[: pending.limit] if last_at == "start" else items[-pending.limit :]
    return "".join(html for _, html in items)


class StreamsHook(Hook):
    render_neutral = frozenset({_LIVE})  # set by every push
    transient = frozenset({_PENDING})

    def begin(self, instance: Component) -> None:
        instance.__dict__[_LIVE] = True

    def rollback(self, instance: Component) -> None:
        instance.__dict__.pop(_PENDING, None)

    def context(self, instance: Component, variables: dict[str, Any]) -> None:
        def render_stream(name: str, macro: Callable[[Any], Any]) -> Markup:
            """``{{ stream("messages", message_row) }}``: the pending items of ``name``."""
            streams: dict[str, _Pending] = instance.__dict__.get(_PENDING, {})
            pending = streams.get(name)
            if pending is None:
                return Markup("")
            rendered: list[list[Any]] = []
            for op in pending.ops:
                if op[0] == "insert":
                    html = [[k, _render_item(macro, k, item)] for k, item in op[2]]
                    rendered.append(["insert", op[1], html])
                else:
                    rendered.append(op)
            if not instance.__dict__.get(_LIVE):
                return Markup(_inline(pending, rendered))
            value = {"name": name, "ops": rendered, "limit": pending.limit}
            instance.add_effect(STREAM_EFFECT, value)
            del streams[name]  # sent: the items are not kept
            return Markup("")

        variables.setdefault("stream", render_stream)

    def rendered(self, instance: Component, html: str) -> None:
        streams: dict[str, _Pending] = instance.__dict__.pop(_PENDING, {})
        if not instance.__dict__.get(_LIVE):
            return
        for name, pending in streams.items():
            # The template did not render this stream: removals still apply, items are lost.
            ops = [op for op in pending.ops if op[0] != "insert"]
            if len(ops) != len(pending.ops):
                logger.warning(
                    "stream %r of %s got items, but its template never called "
                    "stream(%r, macro): they were dropped",
                    name,
                    type(instance).name,
                    name,
                )
            if ops or pending.limit is not None:
                instance.add_effect(
                    STREAM_EFFECT, {"name": name, "ops": ops, "limit": pending.limit}
                )
