"""Server-to-hook events: ``self.push_event(name, data)`` reaches the component's ``lp-hook``s.

The browser half is ``js/directives/hook.js``: each hook registers ``this.handleEvent(name,
callback)``, and the runtime calls the callbacks with ``data`` once the reply carrying the
event has been applied. The event travels as a ``hook_event`` effect, ``[name, data]``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from livepy.protocol.constants import EFFECT_HOOK_EVENT

if TYPE_CHECKING:
    from livepy.component import Component

__all__ = ["push_event"]


def push_event(instance: Component, event: str, data: Any = None) -> None:
    """Queue ``event`` with ``data`` for the hooks of ``instance`` (see Component.push_event)."""
    if not isinstance(event, str) or not event:
        raise TypeError(f"push_event() needs an event name (a non-empty str), not {event!r}")
    instance.add_effect(EFFECT_HOOK_EVENT, [event, data])
