"""Brokers: one contract, chosen by URL scheme (``memory://`` or ``redis://``)."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from livepy.broker.base import BrokerBackend, BrokerError, Deliver, Delivery
from livepy.broker.hub import Hub
from livepy.broker.memory import MemoryBackend

__all__ = [
    "BrokerBackend",
    "BrokerError",
    "Deliver",
    "Delivery",
    "Hub",
    "MemoryBackend",
    "backend_for",
]


def backend_for(url: str) -> BrokerBackend:
    """``memory://`` or ``redis://host:port/db`` (``rediss://`` and ``unix://`` too).

    Options go in the query string: ``history_size`` (both), and for Redis ``presence_ttl``
    (seconds), ``publish_timeout`` (seconds) and ``prefix`` (key prefix).
    """
    parts = urlsplit(url)
    options = dict(parse_qsl(parts.query))
    history_size = int(options.pop("history_size", 100))
    if parts.scheme == "memory":
        return MemoryBackend(history_size=history_size)
    if parts.scheme in ("redis", "rediss", "unix"):
        from livepy.broker.redis import RedisBackend  # lazy: redis is an optional extra

        known = {"presence_ttl", "publish_timeout", "prefix"}
        ours = {k: options.pop(k) for k in list(options) if k in known}
        query = urlencode(options)
        return RedisBackend(
            urlunsplit(parts._replace(query=query)),
            history_size=history_size,
            presence_ttl=float(ours.get("presence_ttl", 20)),
            publish_timeout=float(ours.get("publish_timeout", 2)),
            prefix=ours.get("prefix", "livepy:"),
        )
    raise ValueError(f"unknown broker URL {url!r}: use memory:// or redis://host:port/db")
