"""Redirects and flash messages from actions; ``lp-navigate`` page swaps (see ``page``).

``self.redirect(url)`` is a ``redirect`` effect: the runtime (``js/navigate.js``) loads the
page once the reply is applied, in full or, with ``navigate=True``, by swapping the body
as an ``lp-navigate`` link does. ``self.flash(message, level)`` is a ``flash`` effect that
the next page shows (see ``flash``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from livepy.features.hooks import Hook
from livepy.features.navigation.flash import Flash, read_flashes, sign_flashes

if TYPE_CHECKING:
    from livepy.component import Component

__all__ = [
    "EFFECT_FLASH",
    "EFFECT_REDIRECT",
    "MAX_URL_LENGTH",
    "Flash",
    "NavigationHook",
    "check_redirect_url",
    "flash",
    "read_flashes",
    "redirect",
]

EFFECT_REDIRECT = "redirect"
EFFECT_FLASH = "flash"
MAX_URL_LENGTH = 2048
MAX_FLASHES = 20
_FLASHES = "$flashes"  # instance.__dict__ key: the messages flashed by the current request


def check_redirect_url(url: Any) -> str:
    """``url`` if it is a path or an http(s) URL; ValueError naming the problem otherwise."""
    if not isinstance(url, str) or not 0 < len(url) <= MAX_URL_LENGTH:
        raise ValueError(f"a redirect URL is a string of 1 to {MAX_URL_LENGTH} characters")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        raise ValueError(f"a redirect URL cannot contain control characters: {url!r}")
    scheme = urlsplit(url).scheme.lower()
    if scheme not in ("", "http", "https"):  # javascript:, data: ... would run in the page
        raise ValueError(f"a redirect URL must be a path or an http(s) URL, not {url!r}")
    return url


def redirect(instance: Component, url: str, *, navigate: bool = False) -> None:
    check_redirect_url(url)
    # One redirect per reply: the last one asked for wins.
    instance.pending_effects[EFFECT_REDIRECT] = [{"url": url, "navigate": bool(navigate)}]


def flash(instance: Component, message: str, level: str = "info") -> None:
    from livepy.session import active_live

    if not isinstance(message, str) or not isinstance(level, str):
        raise TypeError("flash(message, level) takes two strings")
    messages: list[list[str]] = instance.__dict__.setdefault(_FLASHES, [])
    if len(messages) >= MAX_FLASHES:
        raise ValueError(f"at most {MAX_FLASHES} flash messages per request")
    live = active_live()
    token = sign_flashes(live, [*messages, [level, message]])
    messages.append([level, message])
    instance.pending_effects[EFFECT_FLASH] = [token]


class NavigationHook(Hook):
    """Forgets the messages flashed by a previous request."""

    transient = frozenset({_FLASHES})
