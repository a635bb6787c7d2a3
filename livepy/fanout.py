"""Render-once fan-out: components with the same class and state render once per broadcast.

When one broadcast event reaches many components of one process, each still runs its listener
(listeners are per instance, and may keep per-instance state), but the render that follows is
shared: the first component of a class that reaches a given state renders, and every other
component of that class that reaches the same state *for the same event* reuses its html, with
its own component id put in the root element. Each connection then diffs and signs for itself,
since the html and state its browser holds and its snapshot MAC are its own.

The render of a component is a function of its class and its state, with a few exceptions that
this module refuses to share, so that a component whose render depends on more than its state
renders as before:

- a class that sets ``shared_render = False`` (for templates that read per-user data from
  outside the state: a context variable, a per-request global), or that has ``rendering`` /
  ``rendered`` hooks;
- an instance with children (their ids are in the parent's html), or holding an attribute
  outside its state that is not plain data (attributes that are plain data, such as feature
  flags and validation messages, are part of the key, like the state);
- an html in which the instance's id appears other than on its root (a template that prints
  ``this.id``): that class is then never shared again.

The snapshot patch is shared the same way: a pushed state that encodes to the same bytes as one
already pushed is replaced by that one object (interned), so the ops from one state to the next
and the canonical encoding the MAC covers are computed once for every component that holds it;
only the MAC itself, which covers each component's id, is per component.

Render entries are keyed by the event object itself, so an entry can never serve another broadcast,
and they are dropped after ``ttl`` seconds and beyond ``max_entries``: the cache is bounded and
lives for about one delivery.
"""

from __future__ import annotations

import hashlib
import time
import weakref
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

import msgpack

from livepy.component import Component
from livepy.protocol.htmldiff import checksum, diff_html
from livepy.protocol.snapshot import canonical
from livepy.protocol.statepatch import diff_state

if TYPE_CHECKING:
    from livepy.render.environment import ComponentRenderer

__all__ = ["SharedRenders"]

# Attributes every instance has, outside its state, that do not change its html.
_BOOKKEEPING = frozenset(
    {"id", "children", "pending_broadcasts", "pending_effects", "offsets", "$computed"}
)
_OFFSETS_KEY = "$offsets"  # where a listener leaves the event's offset: not a render input
_MASK = "\0"  # stands for a component id in the diff cache's keys (never in html)
_MAX_DIFF_CHARS = 32768  # html pairs longer than this are diffed without the cache
_MAX_STATE_BYTES = 16384  # states larger than this are not interned (bounds the cache's memory)
_UNSHARED = object()
_MAX_RAW_KEY = 256  # render keys up to this size are the packed values themselves
# A shareable class's (state field names, attribute names outside the render key), kept on the
# class itself: a plain attribute read, where a weak dictionary makes a weak reference per lookup
_LAYOUT = "_livepy_render_layout"
_SHAREABLE: weakref.WeakKeyDictionary[type[Component], bool] = weakref.WeakKeyDictionary()


def render_key(instance: Component) -> bytes | None:
    """A key for everything this instance's render reads (the packed values, or their digest
    when large), or None when that is unknowable.

    That is its state (without the broadcast offsets) and every other attribute it holds, as
    long as those are plain data (feature flags, an error bag's messages): an attribute that is
    not plain data may render differently for each instance, so the instance is not shared.
    """
    cls = type(instance)
    layout = None if instance.children else cls.__dict__.get(_LAYOUT)
    if layout is None:
        if instance.children or not _class_shareable(cls):
            return None
        layout = (tuple(cls.__state_fields__), frozenset(cls.__state_fields__) | _BOOKKEEPING)
        setattr(cls, _LAYOUT, layout)  # its own, in its __dict__: subclasses get theirs
    names, ignored = layout
    attributes = vars(instance)
    extra_values = []
    for name in sorted(attributes.keys() - ignored):  # a set operation: C speed
        value = attributes[name]
        messages = getattr(value, "messages", None)  # the validation error bag
        extra_values.append([name, messages if isinstance(messages, dict) else value])
    try:  # the raw values, when msgpack takes them as they are (fast: most states are plain)
        values = [getattr(instance, name, None) for name in names]
        packed: bytes = msgpack.packb([values, extra_values], use_bin_type=True, strict_types=True)
    except (TypeError, ValueError, OverflowError):
        state = instance.dump_state()  # enums, dataclasses...: their wire form
        state.pop(_OFFSETS_KEY, None)
        try:
            packed = msgpack.packb([state, extra_values], use_bin_type=True)
        except (TypeError, ValueError, OverflowError):
            return None
    if len(packed) <= _MAX_RAW_KEY:  # small: the bytes are the key, no digest to compute
        return packed
    return hashlib.blake2b(packed, digest_size=16).digest()


def _class_shareable(cls: type[Component]) -> bool:
    """Whether the class allows shared renders at all (asked once per class)."""
    shareable = _SHAREABLE.get(cls)
    if shareable is None:
        shareable = getattr(cls, "shared_render", True) and not any(
            callable(getattr(cls, hook, None)) for hook in ("rendering", "rendered")
        )  # lifecycle hooks that run around each render
        _SHAREABLE[cls] = shareable
    return shareable


class SharedRenders:
    """This process's shared renders, per (event, class, state)."""

    def __init__(self, *, ttl: float = 2.0, max_entries: int = 512) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        # (id(event), class, state digest) -> (event, created, html, cid it was rendered for)
        self._entries: OrderedDict[tuple[int, type[Component], bytes], Any] = OrderedDict()
        self._refused: set[type[Component]] = set()
        # (html before, html after), ids masked -> the diff's edits without its checksum
        self._diffs: OrderedDict[tuple[str, str], Any] = OrderedDict()
        # msgpack(state) -> (the interned state, msgpack(canonical(state)))
        self._states: OrderedDict[bytes, tuple[dict[str, Any], bytes]] = OrderedDict()
        self._interned: dict[int, bytes] = {}  # id(interned state) -> its key in _states
        # (id(old state), id(new state)), both interned -> (old, new, ops)
        self._ops: OrderedDict[tuple[int, int], Any] = OrderedDict()
        self.diffs_shared = 0
        self.patches_shared = 0
        self.renders = 0  # renders done for a broadcast (the first of their kind, or unshared)
        self.shared = 0  # renders saved

    def render(self, renderer: ComponentRenderer, instance: Component, event: object) -> str:
        """``renderer.render_html(instance)``, shared with same-state instances of ``event``."""
        cls = type(instance)
        digest = None if cls in self._refused else render_key(instance)
        if digest is None:
            self.renders += 1
            return renderer.render_html(instance)
        key = (id(event), cls, digest)
        now = time.monotonic()
        entry = self._entries.get(key)
        if entry is not None and entry[0] is event and now - entry[1] <= self.ttl:
            _, _, html, cid = entry
            self.shared += 1
            return str(html).replace(f'="{cid}"', f'="{instance.id}"', 1)
        self.renders += 1
        html = renderer.render_html(instance)
        if html.count(instance.id) != 1:  # the id is printed elsewhere: never share
            self._refused.add(cls)
            return html
        self._entries[key] = (event, now, html, instance.id)
        self._evict(now)
        return html

    def diff(self, before: str, after: str, cid: str) -> list[Any] | None:
        """``diff_html(before, after)``, shared between components whose html is the same.

        The key is the pair with the component id masked; the cached edits were computed on
        the masked pair and contain no id (else they are not cached), so they apply to every
        component's own html: copies copy from its own old html, where its own id is. Only the
        checksum, of its own new html, is per component.
        """
        if not cid or len(before) + len(after) > _MAX_DIFF_CHARS:
            return diff_html(before, after)
        mask = _MASK * len(cid)
        key = (before.replace(cid, mask), after.replace(cid, mask))
        edits = self._diffs.get(key, _UNSHARED)
        if edits is _UNSHARED:
            diff = diff_html(*key)
            edits = None if diff is None else diff[1:]
            if edits is not None and any(_MASK in text for text in _texts(edits)):
                return diff_html(before, after)  # the id is in an insert: not shareable
            self._diffs[key] = edits
            if len(self._diffs) > self.max_entries:
                self._diffs.popitem(last=False)
        else:
            self.diffs_shared += 1
        return None if edits is None else [checksum(after), *edits]

    def state_patch(
        self, old: dict[str, Any], new: dict[str, Any]
    ) -> tuple[dict[str, Any], list[Any], bytes] | None:
        """``(state, diff_state(old, state), msgpack(canonical(state)))`` with ``state`` equal
        to ``new``, shared with every component pushed the same state; None when ``new`` is
        not plain msgpack data or too large (the caller then diffs and signs on its own).

        Equal bytes under ``strict_types`` mean the same keys in the same order and the same
        types (1, 1.0 and True encode apart), so the interned state is ``new`` in every way the
        wire, the next diff and the MAC can tell. The interned states are never mutated: a
        component replaces its state, it never edits it.
        """
        try:
            raw = msgpack.packb(new, use_bin_type=True, strict_types=True)
        except (TypeError, ValueError, OverflowError):
            return None
        if len(raw) > _MAX_STATE_BYTES:
            return None
        entry = self._states.get(raw)
        if entry is None:
            entry = (new, msgpack.packb(canonical(new), use_bin_type=True))
            self._states[raw] = entry
            self._interned[id(new)] = raw
            if len(self._states) > self.max_entries:
                _, (dropped, _) = self._states.popitem(last=False)
                del self._interned[id(dropped)]
        state, packed = entry
        if id(old) not in self._interned:  # a state from a JOIN: its own, diffed once
            return state, diff_state(old, state), packed
        key = (id(old), id(state))
        cached = self._ops.get(key)
        if cached is not None and cached[0] is old and cached[1] is state:
            self.patches_shared += 1
            return state, cached[2], packed
        ops = diff_state(old, state)
        self._ops[key] = (old, state, ops)  # holds both: their ids stay theirs while cached
        if len(self._ops) > self.max_entries:
            self._ops.popitem(last=False)
        return state, ops, packed

    def _evict(self, now: float) -> None:
        entries = self._entries
        while entries and (
            len(entries) > self.max_entries or now - next(iter(entries.values()))[1] > self.ttl
        ):
            entries.popitem(last=False)


def _texts(edits: list[Any]) -> list[str]:
    """The inserted texts of a diff's edits ``[pos, length, insert, ...]``."""
    texts = []
    for insert in edits[2::3]:
        parts = insert if isinstance(insert, list) else [insert]
        texts += [part for part in parts if isinstance(part, str)]
    return texts
