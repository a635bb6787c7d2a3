"""Brokers: one contract, chosen by URL scheme (``memory://`` or ``redis://``)."""

from __future__ import annotations

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
    """``memory://`` or ``redis://host:port/db`` (``rediss://`` and ``unix://`` too)."""
    scheme = url.split("://", 1)[0] if "://" in url else ""
    if scheme == "memory":
        return MemoryBackend()
    if scheme in ("redis", "rediss", "unix"):
        from livepy.broker.redis import RedisBackend  # lazy: redis is an optional extra

        return RedisBackend(url)
    raise ValueError(f"unknown broker URL {url!r}: use memory:// or redis://host:port/db")
