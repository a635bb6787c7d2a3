"""What a browser holds for one joined component, and the changes that bring it up to date.

A ``Live`` is one joined component on a connection: its instance, and the html and snapshot
state the browser is known to hold. A reply or a push carries only what changed against that:
a render diff (``render_change``) and a snapshot patch with its new MAC (``snapshot_patch``).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from livepy.protocol.htmldiff import diff_html
from livepy.protocol.statepatch import diff_state

if TYPE_CHECKING:
    from livepy.component import Component
    from livepy.fanout import SharedRenders
    from livepy.protocol.snapshot import Snapshotter

__all__ = ["REISSUE_AFTER", "Live", "render_change", "snapshot_patch"]

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
    pushed_at: float = float("-inf")  # loop time of the last pushed render (throttling)
    dirty: bool = False  # state changed by a throttled listener, not yet rendered
    # The instance is as ``state`` says: nothing changed it since its last reply, so ``state``
    # is the rollback point of its next change, and no copy needs taking first. Whatever may
    # change an instance outside a change must set it False (livepy.testing's ``instance``,
    # the POST+SSE replays).
    synced: bool = False
    flush: asyncio.Task[None] | None = None
    mac_head: tuple[int, bytes] = (0, b"")  # (issued_at, Snapshotter.mac_head for it)


def render_change(live: Live, html: str, renders: SharedRenders | None) -> str | list[Any] | None:
    """The render diff from the html the browser holds to ``html`` (or ``html`` itself when a
    diff is not smaller; None when nothing changed), which the browser then holds. With
    ``renders`` (a push), the diff is shared between components whose html is the same."""
    if html == live.html:
        return None
    if renders is not None:
        diff = renders.diff(live.html, html, live.instance.id)
    else:
        diff = diff_html(live.html, html)
    live.html = html
    return html if diff is None else diff


def snapshot_patch(
    live: Live, state: dict[str, Any], snapshots: Snapshotter, renders: SharedRenders | None
) -> list[Any] | None:
    """``[issued_at or None, ops, mac]`` from the snapshot the browser holds to ``state`` (None
    when nothing changed and the snapshot is not due for a new ``issued_at``), which the
    browser then holds. With ``renders`` (a push), the ops and the encoding the MAC covers are
    shared by every component that gets the same state; only the MAC, over each component's
    id, is its own."""
    now = snapshots.now()
    reissue = now - live.issued_at > REISSUE_AFTER
    common = renders.state_patch(live.state, state) if renders is not None else None
    if common is None:
        ops, packed = diff_state(live.state, state), None
    else:
        state, ops, packed = common
    if not ops and not reissue:
        return None
    issued_at = now if reissue else live.issued_at
    instance = live.instance
    if packed is None:
        mac = snapshots.mac(type(instance).name, instance.id, issued_at, state)
    else:
        head_at, head = live.mac_head
        if head_at != issued_at or not head:
            head = snapshots.mac_head(type(instance).name, instance.id, issued_at)
            live.mac_head = (issued_at, head)
        mac = snapshots.mac_headed(head, packed)
    live.state, live.issued_at = state, issued_at
    return [issued_at if reissue else None, ops, mac]
