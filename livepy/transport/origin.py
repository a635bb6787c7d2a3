"""The Origin check that keeps other sites' pages off a user's socket (CSWSH), and the CSRF
and Origin checks of livepy's own HTTP routes (the fallback's POSTs, uploads)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from urllib.parse import urlsplit

__all__ = ["CSRF_HEADER", "HEADER_MISSING", "ORIGIN_REFUSED", "browser_refusal", "origin_allowed"]

# A header a page on another site cannot add to a request without a CORS preflight we never allow.
CSRF_HEADER = "x-livepy"
HEADER_MISSING = "header_missing"
ORIGIN_REFUSED = "origin_refused"


def browser_refusal(
    headers: Mapping[str, str], allowed: Collection[str] | None
) -> tuple[str, str] | None:
    """``(code, message)`` when a request to a livepy HTTP route fails the CSRF header or the
    Origin check (both answered with 403), None when it passes."""
    if headers.get(CSRF_HEADER) != "1":
        return HEADER_MISSING, "requests need the header X-Livepy: 1"
    if not origin_allowed(headers.get("origin"), headers.get("host"), allowed):
        return ORIGIN_REFUSED, "origin not allowed"
    return None


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
