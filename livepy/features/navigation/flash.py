"""Flash messages: ``self.flash("Saved!")`` now, shown by ``flashes()`` on the next page.

An action has no HTTP response to set a cookie on (it may run over the WebSocket), so the
messages travel as a ``flash`` effect holding a signed token, and the runtime stores it in
the ``livepy_flash`` cookie. The next page's template reads it with the ``flashes()`` Jinja
global; the runtime deletes the cookie once that page has loaded (or been swapped in by
``lp-navigate``), so a message shows once. The signature (HMAC with the app's secret key)
means that only this server's messages are ever shown; a token older than
``FLASH_MAX_AGE`` seconds is ignored.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from itsdangerous import BadSignature, URLSafeTimedSerializer

if TYPE_CHECKING:
    from livepy.app import LivePy

__all__ = [
    "FLASH_COOKIE",
    "FLASH_MAX_AGE",
    "MAX_FLASH_TOKEN",
    "Flash",
    "read_flashes",
    "sign_flashes",
]

logger = logging.getLogger("livepy.navigation")

FLASH_COOKIE = "livepy_flash"
FLASH_MAX_AGE = 300  # seconds: a flash is for the page that follows, not for later visits
MAX_FLASH_TOKEN = 3000  # bytes: a cookie holds about 4 KB, and rides on every request
_SALT = "livepy.flash"


@dataclass(frozen=True, slots=True)
class Flash:
    """One message; ``{{ flash }}`` renders its text."""

    message: str
    level: str = "info"

    def __str__(self) -> str:
        return self.message


def _serializer(live: LivePy) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(live.secret_key, salt=_SALT)


def sign_flashes(live: LivePy, messages: list[list[str]]) -> str:
    """The cookie value carrying ``messages`` ([level, message] pairs); ValueError if too big."""
    token = _serializer(live).dumps(messages)
    if len(token) > MAX_FLASH_TOKEN:
        raise ValueError(
            f"flash messages take {len(token)} bytes once signed; the limit is "
            f"{MAX_FLASH_TOKEN} (they travel in a cookie): flash less, or shorter text"
        )
    return token


def read_flashes(live: LivePy, request: Any) -> list[Flash]:
    """The messages of the request's flash cookie; none when it is absent, forged or old."""
    cookies = getattr(request, "cookies", None) or {}
    token = cookies.get(FLASH_COOKIE)
    if not token:
        return []
    try:
        messages = _serializer(live).loads(token, max_age=FLASH_MAX_AGE)
    except BadSignature:  # also SignatureExpired
        logger.info("event=flash_refused reason=bad_or_expired_signature")
        return []
    if not isinstance(messages, list):
        return []
    return [
        Flash(str(item[1]), str(item[0]))
        for item in messages
        if isinstance(item, list) and len(item) == 2
    ]
