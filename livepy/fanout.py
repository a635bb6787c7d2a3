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
- an instance with children (their ids are in the parent's html), with validation errors, with
  persisted ``@computed`` values, or with any other attribute set outside its state;
- an html in which the instance's id appears other than on its root (a template that prints
  ``this.id``): that class is then never shared again.

Entries are keyed by the event object itself, so an entry can never serve another broadcast,
and they are dropped after ``ttl`` seconds and beyond ``max_entries``: the cache is bounded and
lives for about one delivery.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

import msgpack

from livepy.component import Component

if TYPE_CHECKING:
    from livepy.render.environment import ComponentRenderer

__all__ = ["SharedRenders"]

# Attributes every instance has, outside its state, that do not change its html.
_BOOKKEEPING = frozenset(
    {"id", "children", "pending_broadcasts", "pending_effects", "offsets", "$computed"}
)
_OFFSETS_KEY = "$offsets"  # where a listener leaves the event's offset: not a render input


def _empty(value: Any) -> bool:
    messages = getattr(value, "messages", None)  # the validation error bag
    if messages is not None:
        return not messages
    return value is None or (isinstance(value, dict | list | set | tuple | str) and not value)


def shareable(instance: Component) -> bool:
    """Does this instance's html depend on its class and state only (as far as we can tell)?"""
    cls = type(instance)
    if not getattr(cls, "shared_render", True) or instance.children:
        return False
    if any(callable(getattr(cls, hook, None)) for hook in ("rendering", "rendered")):
        return False  # lifecycle hooks that run around each render
    fields = cls.__state_fields__
    for name, value in vars(instance).items():
        if name not in fields and name not in _BOOKKEEPING and not _empty(value):
            return False
    return True


class SharedRenders:
    """This process's shared renders, per (event, class, state)."""

    def __init__(self, *, ttl: float = 2.0, max_entries: int = 512) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        # (id(event), class, state digest) -> (event, created, html, cid it was rendered for)
        self._entries: OrderedDict[tuple[int, type[Component], bytes], Any] = OrderedDict()
        self._refused: set[type[Component]] = set()
        self.renders = 0  # renders done for a broadcast (the first of their kind, or unshared)
        self.shared = 0  # renders saved

    def render(self, renderer: ComponentRenderer, instance: Component, event: object) -> str:
        """``renderer.render_html(instance)``, shared with same-state instances of ``event``."""
        cls = type(instance)
        if cls in self._refused or not shareable(instance):
            self.renders += 1
            return renderer.render_html(instance)
        state = instance.dump_state()
        state.pop(_OFFSETS_KEY, None)
        digest = hashlib.blake2b(msgpack.packb(state, use_bin_type=True), digest_size=16).digest()
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

    def _evict(self, now: float) -> None:
        entries = self._entries
        while entries and (
            len(entries) > self.max_entries or now - next(iter(entries.values()))[1] > self.ttl
        ):
            entries.popitem(last=False)
