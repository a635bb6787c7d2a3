"""What a browser holds for one joined component, and the changes that bring it up to date.

A ``Live`` is one joined component on a connection: its instance, and the html and snapshot
state the browser is known to hold. A reply or a push carries only what changed against that:
a render diff (``render_change``) and a snapshot patch with its new MAC (``snapshot_patch``);
a push takes the parts it shares with the other components of a broadcast encoded once
(``push_reply``).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from livepy.fanout import NO_OPS, SAME_HTML, SHARED_DIFF
from livepy.protocol.constants import MAC_BYTES
from livepy.protocol.frames import encode_push
from livepy.protocol.htmldiff import checksum, diff_html
from livepy.protocol.packing import array_header, pack, pack_uint16
from livepy.protocol.statepatch import diff_state

if TYPE_CHECKING:
    from livepy.component import Component
    from livepy.fanout import Rendering, SharedRenders
    from livepy.protocol.snapshot import Snapshotter

__all__ = ["REISSUE_AFTER", "Live", "push_reply", "render_change", "snapshot_patch"]

# A snapshot's issued_at is refreshed once it is this old, so active pages never expire.
REISSUE_AFTER = 3600


@dataclass
class Live:
    """One joined component and what the client is known to hold for it."""

    ref: int
    instance: Component
    html: str
    state: dict[str, Any]
    issued_at: int
    seq: int = 0
    next_html: str = ""
    next_state: dict[str, Any] = field(default_factory=dict)
    # The shared render next_html and next_state come from (a broadcast's), else None
    next_rendering: Rendering | None = None
    # The shared render the html the browser holds comes from: known while ``html`` is still
    # the very string ``held_html`` (two fields, not a pair: a pair per push would be one more
    # object for the garbage collector to promote and scan, per component and broadcast)
    held_rendering: Rendering | None = None
    held_html: str | None = None
    pushed_at: float = float("-inf")  # loop time of the last pushed render (throttling)
    dirty: bool = False  # state changed by a throttled listener, not yet rendered
    # The instance is as ``state`` says: nothing changed it since its last reply, so ``state``
    # is the rollback point of its next change, and no copy needs taking first. Whatever may
    # change an instance outside a change must set it False (livepy.testing's ``instance``,
    # the POST+SSE replays).
    synced: bool = False
    flush: asyncio.Task[None] | None = None
    mac_head: tuple[int, bytes] = (0, b"")  # (issued_at, Snapshotter.mac_head for it)


def render_change(live: Live, html: str) -> str | list[Any] | None:
    """The render diff from the html the browser holds to ``html`` (or ``html`` itself when a
    diff is not smaller; None when nothing changed), which the browser then holds."""
    if html == live.html:
        return None
    diff = diff_html(live.html, html)
    live.html = html
    return html if diff is None else diff


def snapshot_patch(live: Live, state: dict[str, Any], snapshots: Snapshotter) -> list[Any] | None:
    """``[issued_at or None, ops, mac]`` from the snapshot the browser holds to ``state`` (None
    when nothing changed and the snapshot is not due for a new ``issued_at``), which the
    browser then holds."""
    now = snapshots.now()
    reissue = now - live.issued_at > REISSUE_AFTER
    ops = diff_state(live.state, state)
    if not ops and not reissue:
        return None
    issued_at = now if reissue else live.issued_at
    instance = live.instance
    mac = snapshots.mac(type(instance).name, instance.id, issued_at, state)
    live.state, live.issued_at = state, issued_at
    return [issued_at if reissue else None, ops, mac]


def push_reply(live: Live, renders: SharedRenders, snapshots: Snapshotter) -> bytes | None:
    """The pushed REPLY (no effects) that brings the browser up to ``live.next_html`` and
    ``live.next_state``, which it then holds; None when nothing changed.

    The same bytes as ``encode_reply`` of ``render_change`` and ``snapshot_patch``, but the
    render diff and the snapshot ops, the same for every component a broadcast brings from
    one html and state to the next, come encoded once (``SharedRenders``) and are spliced in;
    per component, only the frame's head, the checksum of its html and the MAC over its id
    are encoded.
    """
    html, rendering = live.next_html, live.next_rendering
    before = live.html
    cid = live.instance.id
    if rendering is not None and (
        rendering.state is not live.next_state or len(cid) != rendering.id_length
    ):
        rendering = None  # (an id of another length: masked apart)
    held = live.held_rendering
    if (
        rendering is not None
        and held is not None
        and live.held_html is before
        and held.state is live.state
    ):  # from one shared render to the next: the step is worked out once
        kind, diff, ops = renders.step(held, rendering)
        if kind == SAME_HTML:
            render: tuple[bytes, ...] = _NIL
        elif kind == SHARED_DIFF:
            render = (diff[0], pack_uint16(checksum(html)), diff[1])
        else:
            render = renders.encoded_diff(before, html, cid, (held, rendering))
        state, packed = rendering.state, rendering.packed
    else:
        render = _NIL if html == before else renders.encoded_diff(before, html, cid, None)
        shared = renders.state_patch(live.state, live.next_state, rendering)
        if shared is None:  # not plain data, or too large to share: diffed and signed alone
            if render is not _NIL:
                live.html = html
            live.held_rendering = None
            plain = snapshot_patch(live, live.next_state, snapshots)
            if plain is None and render is _NIL:
                return None
            return encode_push(
                live.ref, live.seq, render, _NIL if plain is None else (pack(plain),)
            )
        state, ops, packed = shared
    if render is not _NIL:
        live.html = html
    live.held_rendering, live.held_html = rendering, live.html
    patch = _patch(live, state, ops, packed, snapshots)
    if patch is None:
        if render is _NIL:
            return None
        patch = _NIL
    return encode_push(live.ref, live.seq, render, patch)


def _patch(
    live: Live, state: dict[str, Any], ops: bytes, packed: bytes, snapshots: Snapshotter
) -> tuple[bytes, ...] | None:
    """``snapshot_patch`` to the interned ``state``, in parts: ``ops`` and ``packed`` (the
    encoding its MAC covers) are shared; None when nothing changed."""
    now = snapshots.now()
    reissue = now - live.issued_at > REISSUE_AFTER
    live.state = state  # (without ops: the same value, as the shared object)
    if ops == NO_OPS and not reissue:
        return None
    issued_at = now if reissue else live.issued_at
    head_at, head = live.mac_head
    if head_at != issued_at or not head:
        instance = live.instance
        head = snapshots.mac_head(type(instance).name, instance.id, issued_at)
        live.mac_head = (issued_at, head)
    mac = snapshots.mac_headed(head, packed)
    live.issued_at = issued_at
    return _PATCH_HEADER, pack(issued_at) if reissue else _NIL[0], ops, _MAC_HEADER, mac


_NIL = (pack(None),)
_PATCH_HEADER = array_header(3)  # [issued_at or None, ops, mac]
_MAC_HEADER = b"\xc4" + bytes((MAC_BYTES,))  # bin 8 of MAC_BYTES
