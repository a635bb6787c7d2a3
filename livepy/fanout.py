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
  ``rendered`` / ``dehydrate`` hooks;
- an instance with children (their ids are in the parent's html), or holding an attribute
  outside its state that is not plain data (attributes that are plain data are part of the key,
  like the state; the features' own bookkeeping, ``Hook.render_neutral``, is not, and validation
  messages are in the dumped state);
- an html in which the instance's id appears other than on its root (a template that prints
  ``this.id``): that class is then never shared again.

The snapshot patch is shared the same way. The state is dumped and encoded once, before the
render: those bytes key the render, and a state that encodes to the same bytes as one already
pushed is replaced by that one object (interned), so the ops from one state to the next
and the canonical encoding the MAC covers are computed once for every component that holds it;
only the MAC itself, which covers each component's id, is per component.

Most components of a shared dashboard do not even dump their state: a component whose browser
holds a shared render takes the render that the same event took the last component holding it
to, when its fields hold that render's values, of the same plain types (``_dumps_to``, which
answers yes only where the dump would give the same bytes).

Render entries are keyed by the event object itself, so an entry can never serve another broadcast,
and they are dropped after ``ttl`` seconds and beyond ``max_entries``: the cache is bounded and
lives for about one delivery.
"""

from __future__ import annotations

import operator
import time
import weakref
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from livepy import features
from livepy.component import OFFSETS_KEY, Component
from livepy.protocol.htmldiff import checksum, diff_html
from livepy.protocol.packing import array_header, pack, pack_items, pack_strict, pack_uint16
from livepy.protocol.snapshot import canonical
from livepy.protocol.statepatch import diff_state

if TYPE_CHECKING:
    from livepy.render.environment import ComponentRenderer

__all__ = ["NO_OPS", "OWN_DIFF", "SAME_HTML", "SHARED_DIFF", "Rendering", "SharedRenders"]

# Attributes every instance has, outside its state, that do not change its html.
_BOOKKEEPING = frozenset(
    {"id", "children", "pending_broadcasts", "pending_effects", "offsets", "$computed"}
)
_MASK = "\0"  # stands for a component id in the diff cache's keys (never in html)
_MAX_DIFF_CHARS = 32768  # html pairs longer than this are diffed without the cache
_MAX_STATE_BYTES = 16384  # states larger than this are not interned (bounds the cache's memory)
_UNSHARED = object()
_UNKNOWN = object()
_SCALARS = frozenset({str, int, bool, float, type(None)})  # dumped as they are
NO_OPS = pack([])  # the encoded ops of a snapshot that did not change
# What a push between two shared renders does to the html (SharedRenders.step)
SAME_HTML, SHARED_DIFF, OWN_DIFF = 0, 1, 2
# A shareable class's attribute names that are not render inputs beyond its state, kept on the
# class itself: a plain attribute read, where a weak dictionary makes a weak reference per lookup
_LAYOUT = "_livepy_render_layout"
_SHAREABLE: weakref.WeakKeyDictionary[type[Component], bool] = weakref.WeakKeyDictionary()


def _render_extras(instance: Component) -> list[Any] | None:
    """The attributes outside the state that a render may read, as plain data: ``[]`` for most
    instances; None when the instance cannot be shared (children, a class that opts out, an
    attribute that is not plain data)."""
    cls = type(instance)
    layout = None if instance.children else cls.__dict__.get(_LAYOUT)
    if layout is None:
        if instance.children or not _class_shareable(cls):
            return None
        layout = frozenset(cls.__state_fields__) | _BOOKKEEPING | features.RENDER_NEUTRAL
        setattr(cls, _LAYOUT, layout)  # its own, in its __dict__: subclasses get theirs
    attributes = vars(instance)
    if layout.issuperset(attributes):  # the usual instance: nothing but state and bookkeeping
        return []
    extras = []
    for name in sorted(attributes.keys() - layout):  # a set operation: C speed
        value = attributes[name]
        messages = getattr(value, "messages", None)  # the validation error bag
        extras.append([name, messages if isinstance(messages, dict) else value])
    return extras


def _dumps_to(instance: Component, rendering: Rendering) -> bool:
    """Whether ``instance`` renders as ``rendering`` does, and ``instance.dump_state()`` would
    encode to the same bytes as its state, told without dumping: the same exact plain type and
    an equal value in each field (1, 1.0 and True encode apart), the same offsets, and nothing
    else that a dump or a render would add (children, validation messages, attributes outside
    the state)."""
    fields = rendering.fields
    if fields is _UNKNOWN:
        fields = rendering.fields = _plain_fields(rendering)
    if fields is None or instance.children:
        return False
    values, kinds, offsets, read, layout = fields
    found = read(instance)
    if (
        found != values
        or tuple(map(type, found)) != kinds
        or instance.offsets != offsets
        or not layout.issuperset(vars(instance))  # nothing but state and bookkeeping
    ):
        return False
    added: dict[str, Any] = {}
    features.dump_extra(instance, added)  # what a dump adds beyond the fields (messages)
    return not added


def _plain_fields(rendering: Rendering) -> Any:
    """What ``_dumps_to`` compares an instance with: ``(values, their types, offsets, read,
    layout)`` of the rendering's state, ``read`` giving an instance's field values and
    ``layout`` the attribute names of its class that are not render inputs; None when its state
    is not only fields of plain values (and offsets on one channel at most: a dict's order is
    not compared), or holds a float zero (0.0 and -0.0 are equal, and encode apart)."""
    cls = rendering.cls
    layout = cls.__dict__.get(_LAYOUT)  # (set by the render that made it: _render_extras)
    names = tuple(cls.__state_fields__)
    state = rendering.state
    offsets = state.get(OFFSETS_KEY)
    if list(state) != [*names, *([OFFSETS_KEY] if offsets is not None else [])]:
        return None
    if offsets is not None and (type(offsets) is not dict or len(offsets) > 1):
        return None
    if layout is None or not all(name.isidentifier() for name in names):
        return None
    values = tuple(state[name] for name in names)
    kinds = tuple(map(type, values))
    if not all(kind in _SCALARS for kind in kinds):
        return None
    if any(kind is float and value == 0.0 for kind, value in zip(kinds, values, strict=True)):
        return None
    if len(names) >= 2:
        read: Any = operator.attrgetter(*names)  # a tuple, read in C
    else:
        read = (lambda instance: (getattr(instance, names[0]),)) if names else (lambda _: ())
    return values, kinds, offsets or {}, read, layout


def _class_shareable(cls: type[Component]) -> bool:
    """Whether the class allows shared renders at all (asked once per class)."""
    shareable = _SHAREABLE.get(cls)
    if shareable is None:
        shareable = getattr(cls, "shared_render", True) and not any(
            callable(getattr(cls, hook, None)) for hook in ("rendering", "rendered", "dehydrate")
        )  # lifecycle hooks that run around each render, or change the state after it
        _SHAREABLE[cls] = shareable
    return shareable


class Rendering:
    """One shared render: the html a class renders for one state after one broadcast.

    Every component that shares it holds it (``Live.held_rendering``) until its next push, and
    a push from one rendering to the next is worked out once per pair (``SharedRenders.step``).
    ``state`` and ``packed`` are the interned state and the encoding its MAC covers. The html
    with its component's id masked is made when a step needs it, not kept: a rendering that
    only one component holds (per-user state) costs no second copy of its html.
    """

    __slots__ = (
        "cls", "created", "event", "fields", "html", "id_length", "packed", "quoted", "state"
    )  # fmt: skip

    def __init__(
        self, event: object, cls: type[Component], created: float, html: str, cid: str,
        state: dict[str, Any], packed: bytes,
    ) -> None:  # fmt: skip
        self.event, self.cls, self.created = event, cls, created
        self.html, self.quoted, self.id_length = html, f'="{cid}"', len(cid)
        self.state, self.packed = state, packed
        self.fields: Any = _UNKNOWN  # what _dumps_to compares with, worked out on first use

    def html_for(self, cid: str) -> str:
        """The html with ``cid`` as its root's id."""
        return self.html.replace(self.quoted, f'="{cid}"', 1)

    def masked(self) -> str:
        """The html with its component's id masked (the id is in it once: on its root)."""
        return self.html.replace(self.quoted, f'="{_MASK * self.id_length}"', 1)


class SharedRenders:
    """This process's shared renders, per (event, class, state)."""

    def __init__(self, *, ttl: float = 2.0, max_entries: int = 512) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        # (id(event), class, msgpack(state), msgpack(attributes outside it)) -> its Rendering
        self._entries: OrderedDict[tuple[int, type[Component], bytes, bytes], Rendering] = (
            OrderedDict()
        )
        self._refused: set[type[Component]] = set()
        # (html before, html after), ids masked -> (array header, encoded edits) of the diff
        # without its checksum, or None when the html itself is smaller
        self._diffs: OrderedDict[tuple[str, str], Any] = OrderedDict()
        # msgpack(state) -> (the interned state, msgpack(canonical(state)))
        self._states: OrderedDict[bytes, tuple[dict[str, Any], bytes]] = OrderedDict()
        self._interned: dict[int, bytes] = {}  # id(interned state) -> its key in _states
        # (id(old state), id(new state)), both interned -> (old, new, msgpack(ops))
        self._ops: OrderedDict[tuple[int, int], Any] = OrderedDict()
        # held Rendering -> the Rendering the last event took a component holding it to
        self._next: OrderedDict[Rendering, Rendering] = OrderedDict()
        # (held Rendering, next Rendering) -> step(held, next)
        self._steps: OrderedDict[tuple[Rendering, Rendering], tuple[int, Any, bytes]] = (
            OrderedDict()
        )
        self.diffs_shared = 0
        self.patches_shared = 0
        self.steps_shared = 0
        self.renders = 0  # renders done for a broadcast (the first of their kind, or unshared)
        self.shared = 0  # renders saved

    def render(
        self,
        renderer: ComponentRenderer,
        instance: Component,
        event: object,
        held: Rendering | None = None,
    ) -> tuple[str, dict[str, Any], Rendering | None]:
        """``(renderer.render_html(instance), instance.snapshot_state(), rendering)``, shared
        with the instances of the same class that ``event`` brought to the same state
        (``rendering``, None when the render is not shared).

        The state is dumped first, and encoded once: those bytes key the render and intern the
        state (``state_patch``). A class with a ``dehydrate`` hook is never shared, so dumping
        before the render changes nothing.

        ``held``, the shared render the component's browser holds, finds the render that
        ``event`` took the last component holding it to (``_next``). When the instance would
        dump to that render's state (``_dumps_to``: its fields hold the same plain values) and
        has nothing outside its state to key on, that render is the one the lookup would find:
        the dump, its encoding and the lookup are skipped, and a dashboard everybody sees goes
        from one shared render to the next at the cost of a few comparisons per component.
        """
        cls = type(instance)
        if held is not None:
            after = self._next.get(held)
            if (
                after is not None
                and after.event is event
                and after.cls is cls
                and cls not in self._refused
                and _dumps_to(instance, after)
            ):
                self.shared += 1
                return after.html_for(instance.id), after.state, after
        extras = None if cls in self._refused else _render_extras(instance)
        if extras is None:
            return self._unshared(renderer, instance)
        state = instance.dump_state()
        try:
            raw = pack_strict(state)
            key_extras = pack_strict(extras) if extras else b""
        except (TypeError, ValueError, OverflowError):  # enums, dataclasses...: not plain data
            html = renderer.render_html(instance)
            self.renders += 1
            return html, state, None
        key = (id(event), cls, raw, key_extras)
        now = time.monotonic()
        rendering = self._entries.get(key)
        if (
            rendering is not None
            and rendering.event is event
            and now - rendering.created <= self.ttl
        ):
            self.shared += 1  # (its state encodes to raw: the state, interned)
            if held is not None and not extras:
                self._followed(held, rendering)
            return rendering.html_for(instance.id), rendering.state, rendering
        interned = self._intern(raw, state)
        if interned is None:  # too large to keep
            self.renders += 1
            return renderer.render_html(instance), state, None
        self.renders += 1
        html = renderer.render_html(instance)
        if html.count(instance.id) != 1:  # the id is printed elsewhere: never share
            self._refused.add(cls)
            return html, interned, None
        packed = self._states[raw][1]
        html = str(html)  # (not Markup)
        rendering = Rendering(event, cls, now, html, instance.id, interned, packed)
        self._entries[key] = rendering
        self._evict(now)
        if held is not None and not extras:
            self._followed(held, rendering)
        return rendering.html, interned, rendering  # (one copy of the html, held by both)

    def _followed(self, held: Rendering, after: Rendering) -> None:
        """A component holding ``held`` went to ``after``: the next ones may take it directly."""
        self._next[held] = after
        if len(self._next) > self.max_entries:
            self._next.popitem(last=False)

    def _unshared(
        self, renderer: ComponentRenderer, instance: Component
    ) -> tuple[str, dict[str, Any], None]:
        self.renders += 1
        return renderer.render_html(instance), instance.snapshot_state(), None

    def encoded_diff(
        self, before: str, after: str, cid: str, renderings: tuple[Rendering, Rendering] | None
    ) -> tuple[bytes, ...]:
        """The encoding, in parts, of the render change from ``before`` to ``after`` (the
        diff, or ``after`` itself when a diff is not smaller), shared between components whose
        html is the same.

        The key is the pair with the component id masked; the cached edits were computed on
        the masked pair and contain no id (else they are not cached), so they apply to every
        component's own html: copies copy from its own old html, where its own id is. The
        edits are encoded once; only the checksum, of its own new html, is per component.
        ``renderings``, the shared renders ``before`` and ``after`` are known to come from (with
        ids of ``cid``'s length), give the masked pair.
        """
        if not cid or len(before) + len(after) > _MAX_DIFF_CHARS:
            return (pack(_change(before, after)),)
        if renderings is None:
            mask = _MASK * len(cid)
            key = (before.replace(cid, mask), after.replace(cid, mask))
        else:
            key = (renderings[0].masked(), renderings[1].masked())
        shared = self._shared_diff(key)
        if shared is _UNSHARED:  # the id is in an insert
            return (pack(_change(before, after)),)
        if shared is None:  # a diff is not smaller than the html
            return (pack(after),)
        header, edits = shared
        return header, pack_uint16(checksum(after)), edits

    def step(self, held: Rendering, after: Rendering) -> tuple[int, Any, bytes]:
        """A push from the shared render ``held`` to ``after``, the same for every component
        that makes it with an id of their length: ``(kind, diff, ops)``, worked out once.

        ``kind`` is ``SAME_HTML``, ``SHARED_DIFF`` (``diff`` is the array header and the
        encoded edits, without the checksum) or ``OWN_DIFF`` (a diff no smaller than the html,
        a pair too long to keep, or an insert that holds the id: ``encoded_diff`` per
        component); ``ops`` is the encoded snapshot ops between their interned states.
        """
        key = (held, after)
        step = self._steps.get(key)
        if step is not None:
            self.steps_shared += 1
            return step
        ops = self._encoded_ops(held.state, after.state)  # (renders hold interned states)
        before_masked, after_masked = held.masked(), after.masked()
        if before_masked == after_masked:
            step = (SAME_HTML, None, ops)
        else:
            diff = None
            if len(before_masked) + len(after_masked) <= _MAX_DIFF_CHARS:
                diff = self._shared_diff((before_masked, after_masked))
            shared = diff is not None and diff is not _UNSHARED
            step = (SHARED_DIFF, diff, ops) if shared else (OWN_DIFF, None, ops)
        self._steps[key] = step  # holds both renders: their identity stays theirs while kept
        if len(self._steps) > self.max_entries:
            self._steps.popitem(last=False)
        return step

    def _shared_diff(self, key: tuple[str, str]) -> Any:
        """``(array header, encoded edits)`` of the diff of a masked pair, its checksum left
        out; None when the html itself is smaller; ``_UNSHARED`` when an insert holds the
        (masked) id, which is never kept."""
        shared = self._diffs.get(key, _UNSHARED)
        if shared is not _UNSHARED:
            self.diffs_shared += 1
            return shared
        diff = diff_html(*key)
        if diff is not None:
            edits = diff[1:]
            if any(_MASK in text for text in _texts(edits)):
                return _UNSHARED
            shared = (array_header(len(diff)), pack_items(edits))
        else:
            shared = None
        self._diffs[key] = shared
        if len(self._diffs) > self.max_entries:
            self._diffs.popitem(last=False)
        return shared

    def state_patch(
        self, old: dict[str, Any], new: dict[str, Any], rendering: Rendering | None = None
    ) -> tuple[dict[str, Any], bytes, bytes] | None:
        """``(state, msgpack(diff_state(old, state)), msgpack(canonical(state)))`` with
        ``state`` equal to ``new``, shared with every component pushed the same state; None
        when ``new`` is not plain msgpack data or too large (the caller then diffs and signs
        on its own).

        Equal bytes under ``strict_types`` mean the same keys in the same order and the same
        types (1, 1.0 and True encode apart), so the interned state is ``new`` in every way the
        wire, the next diff and the MAC can tell. The interned states are never mutated: a
        component replaces its state, it never edits it. ``rendering``, the shared render that
        ``new`` comes from, has it interned and encoded already.
        """
        if rendering is not None:
            state, packed = rendering.state, rendering.packed
        else:
            raw = self._interned.get(id(new))
            if raw is None:  # not dumped by render(): encode it here
                try:
                    raw = pack_strict(new)
                except (TypeError, ValueError, OverflowError):
                    return None
                if self._intern(raw, new) is None:
                    return None
            state, packed = self._states[raw]
        if id(old) not in self._interned:  # a state from a JOIN: its own, diffed once
            return state, pack(diff_state(old, state)), packed
        return state, self._encoded_ops(old, state), packed

    def _encoded_ops(self, old: dict[str, Any], new: dict[str, Any]) -> bytes:
        """``msgpack(diff_state(old, new))`` between two interned states, worked out once per
        pair (a push's patch, a step between shared renders)."""
        key = (id(old), id(new))
        cached = self._ops.get(key)
        if cached is not None and cached[0] is old and cached[1] is new:
            self.patches_shared += 1
            return cached[2]  # type: ignore[no-any-return]
        ops = pack(diff_state(old, new))
        self._ops[key] = (old, new, ops)  # holds both: their ids stay theirs while cached
        if len(self._ops) > self.max_entries:
            self._ops.popitem(last=False)
        return ops

    def _intern(self, raw: bytes, state: dict[str, Any]) -> dict[str, Any] | None:
        """The one state object for the encoding ``raw`` of ``state`` (``state`` itself the
        first time), or None when it is too large to keep."""
        if len(raw) > _MAX_STATE_BYTES:
            return None
        entry = self._states.get(raw)
        if entry is None:
            entry = (state, pack(canonical(state)))
            self._states[raw] = entry
            self._interned[id(state)] = raw
            if len(self._states) > self.max_entries:
                _, (dropped, _) = self._states.popitem(last=False)
                del self._interned[id(dropped)]
        return entry[0]

    def _evict(self, now: float) -> None:
        entries = self._entries
        while entries and (
            len(entries) > self.max_entries or now - next(iter(entries.values())).created > self.ttl
        ):
            entries.popitem(last=False)


def _change(before: str, after: str) -> str | list[Any]:
    """The render change from ``before`` to ``after`` when it is not shared."""
    diff = diff_html(before, after)
    return after if diff is None else diff


def _texts(edits: list[Any]) -> list[str]:
    """The inserted texts of a diff's edits ``[pos, length, insert, ...]``."""
    texts = []
    for insert in edits[2::3]:
        parts = insert if isinstance(insert, list) else [insert]
        texts += [part for part in parts if isinstance(part, str)]
    return texts
