"""The Origin check that keeps other sites' pages off a user's socket (CSWSH)."""

from __future__ import annotations

from collections.abc import Collection
from urllib.parse import urlsplit

__all__ = ["origin_allowed"]


def origin_allowed(origin: str | None, host: str | None, allowed: Collection[str] | None) -> bool:
    """Browsers always send Origin on a WebSocket; clients that send none are not browsers.

    With ``allowed`` unset only the page's own host may connect; ``"*"`` allows any.
    """
    if origin is None:
        return True
    if allowed is not None:
        return "*" in allowed or origin.rstrip("/") in {o.rstrip("/") for o in allowed}
    parts = urlsplit(origin)
    return bool(parts.netloc) and parts.netloc == host
