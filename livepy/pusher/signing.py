"""Pusher signatures: channel auth (``key:hmac``) and signed HTTP API requests."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

__all__ = [
    "channel_auth",
    "sign_request",
    "user_auth",
    "valid_channel_auth",
    "valid_user_auth",
    "verify_request",
]


def _hmac(secret: str, message: str) -> str:
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def channel_auth(
    key: str, secret: str, socket_id: str, channel: str, channel_data: str | None = None
) -> str:
    """``key:hex(HMAC_SHA256(secret, "socket_id:channel[:channel_data]"))``."""
    message = (
        f"{socket_id}:{channel}"
        if channel_data is None
        else (f"{socket_id}:{channel}:{channel_data}")
    )
    return f"{key}:{_hmac(secret, message)}"


def valid_channel_auth(
    auth: object, key: str, secret: str, socket_id: str, channel: str, channel_data: str | None
) -> bool:
    if not isinstance(auth, str):
        return False
    expected = channel_auth(key, secret, socket_id, channel, channel_data)
    return hmac.compare_digest(auth.encode(), expected.encode())


def user_auth(key: str, secret: str, socket_id: str, user_data: str) -> str:
    """``key:hex(HMAC_SHA256(secret, "socket_id::user::user_data"))``, for ``pusher:signin``."""
    return f"{key}:{_hmac(secret, f'{socket_id}::user::{user_data}')}"


def valid_user_auth(auth: object, key: str, secret: str, socket_id: str, user_data: str) -> bool:
    if not isinstance(auth, str):
        return False
    expected = user_auth(key, secret, socket_id, user_data)
    return hmac.compare_digest(auth.encode(), expected.encode())


def sign_request(secret: str, method: str, path: str, params: Mapping[str, str]) -> str:
    """``hex(HMAC_SHA256(secret, "METHOD\\nPATH\\nk=v&k=v"))`` over params sorted by key."""
    query = "&".join(f"{k}={params[k]}" for k in sorted(params))
    return _hmac(secret, f"{method}\n{path}\n{query}")


def verify_request(
    secret: str, method: str, path: str, query: Mapping[str, str], body: bytes
) -> bool:
    """Accept both forms of ``body_md5``: always signed (the SDKs) or only for a body (Reverb)."""
    params = {k: v for k, v in query.items() if k not in ("auth_signature", "body_md5")}
    if "body_md5" in query:
        if not hmac.compare_digest(query["body_md5"], hashlib.md5(body).hexdigest()):
            return False
        params["body_md5"] = query["body_md5"]
    elif body:
        return False
    signature = sign_request(secret, method.upper(), path, params)
    return hmac.compare_digest(signature, query.get("auth_signature", ""))
