"""Helpers shared by the transports: client addresses, outgoing-frame accounting, refusals."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import msgpack

from livepy.protocol import constants as c
from livepy.transport.connections import Refusal
from livepy.transport.logfmt import log_event

if TYPE_CHECKING:
    from starlette.requests import HTTPConnection

    from livepy.app import LivePy

__all__ = [
    "DIRECT_SEND",
    "account_sent",
    "client_address",
    "error_code",
    "log_refusal",
    "needs_accounting",
]

# The scope extension through which livepy.transport.direct offers the endpoint its direct send
# (named here, where nothing imports uvicorn, so the endpoint can look for it).
DIRECT_SEND = "livepy.direct_send"

logger = logging.getLogger("livepy.transport")


def client_address(conn: HTTPConnection) -> tuple[str, str]:
    """(ip, "ip:port") of the peer.

    This is the socket peer as the ASGI server reports it. Behind a reverse proxy it is the
    proxy's address unless uvicorn rewrites it from ``X-Forwarded-For``, which it does only for
    proxies listed in ``--forwarded-allow-ips`` (and with ``--proxy-headers``, the default).
    """
    if conn.client is None:
        return "?", "?"
    host, port = conn.client.host, conn.client.port
    return host, f"{host}:{port}"


def error_code(data: bytes) -> tuple[str, Any] | None:
    """(code, cid) when ``data`` is an encoded ERROR frame, else None (cheap for other frames)."""
    if len(data) < 2 or not 0x91 <= data[0] <= 0x9F or data[1] != c.FRAME_ERROR:
        return None
    try:
        body = msgpack.unpackb(data, raw=False)
        return str(body[1]), body[3] if len(body) > 3 else None
    except Exception:  # our own frames always decode; never let accounting break a reply
        return None


def needs_accounting(live: LivePy, data: bytes) -> bool:
    """False when ``account_sent`` would do nothing for ``data`` (metrics off, not an ERROR)."""
    return live.metrics.enabled or (len(data) > 1 and data[1] == c.FRAME_ERROR)


def account_sent(live: LivePy, transport: str, data: bytes, client: str) -> None:
    """Count one outgoing frame; log and count it by code when it is an ERROR frame.

    There is nothing to do when metrics are off and the frame is not an ERROR: a sender of
    many frames may skip the call then (``needs_accounting``)."""
    live.metrics.frame_sent(transport, len(data))
    found = error_code(data)
    if found is not None:
        code, cid = found
        live.metrics.error(code)
        log_event(
            logger, logging.INFO, "error_frame", transport=transport, client=client, code=code,
            cid=cid,
        )  # fmt: skip


def log_refusal(live: LivePy, transport: str, client: str, refusal: Refusal) -> None:
    """Log (and count, for limits) a connection refused by a limit or by draining."""
    if refusal.is_limit:
        live.metrics.limit_hit(refusal.reason)
        log_event(
            logger,
            logging.WARNING,
            "limit_hit",
            transport=transport,
            client=client,
            limit=refusal.reason,
            code=refusal.code,
            open=len(live.connections),
        )
    else:
        log_event(
            logger, logging.INFO, "refused", transport=transport, client=client,
            reason=refusal.reason, code=refusal.code,
        )  # fmt: skip
