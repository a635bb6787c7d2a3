"""Prometheus metrics of one LivePy: connections, frames, bytes, timings, errors, limit hits.

Off by default. ``LivePy(metrics=True)`` imports ``prometheus_client`` (the ``livepy[metrics]``
extra) and records into a ``CollectorRegistry`` of its own, so two LivePy objects in one process
(or one test run) never share or clash over a metric. When off, every method is a no-op and
``prometheus_client`` is never imported.

The exposition is served at ``{path}/metrics`` (see ``livepy.transport.http.metrics_endpoint``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from livepy.exceptions import ConfigurationError

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = ["Metrics"]

# Seconds: handling one frame is usually well under a millisecond, a slow action can take seconds.
TIME_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)


class Metrics:
    """The metrics of one LivePy. ``transport`` labels are ``ws``, ``http`` and ``sse``."""

    registry: CollectorRegistry | None

    def __init__(self, enabled: bool = False) -> None:
        self.enabled = enabled
        self.registry = None
        if not enabled:
            return
        try:
            import prometheus_client as prom
        except ImportError:  # pragma: no cover - depends on the installed extras
            raise ConfigurationError(
                "LivePy(metrics=True) needs prometheus-client: pip install 'livepy[metrics]'"
            ) from None
        self.registry = registry = prom.CollectorRegistry(auto_describe=True)
        self.connections: Gauge = prom.Gauge(
            "livepy_connections", "Open connections.", ["transport"], registry=registry
        )
        self.connections_opened: Counter = prom.Counter(
            "livepy_connections_opened", "Connections accepted.", ["transport"], registry=registry
        )
        self.connections_closed: Counter = prom.Counter(
            "livepy_connections_closed",
            "Connections closed, by close code (1000 normal, 1001 going away, 1012 drained, "
            "4408 heartbeat timeout...).",
            ["transport", "code"],
            registry=registry,
        )
        self.frames_received: Counter = prom.Counter(
            "livepy_frames_received", "Frames received from clients.", ["transport"],
            registry=registry,
        )  # fmt: skip
        self.frames_sent: Counter = prom.Counter(
            "livepy_frames_sent", "Frames sent to clients.", ["transport"], registry=registry
        )
        self.bytes_received: Counter = prom.Counter(
            "livepy_bytes_received", "Frame bytes received from clients.", ["transport"],
            registry=registry,
        )  # fmt: skip
        self.bytes_sent: Counter = prom.Counter(
            "livepy_bytes_sent", "Frame bytes sent to clients.", ["transport"], registry=registry
        )
        self.frame_seconds: Histogram = prom.Histogram(
            "livepy_frame_seconds",
            "Time to handle one client frame (decode, actions, render, encode).",
            ["transport"],
            buckets=TIME_BUCKETS,
            registry=registry,
        )
        self.render_seconds: Histogram = prom.Histogram(
            "livepy_render_seconds",
            "Time to render one component.",
            ["component"],
            buckets=TIME_BUCKETS,
            registry=registry,
        )
        self.errors: Counter = prom.Counter(
            "livepy_errors", "ERROR frames sent, by error code.", ["code"], registry=registry
        )
        self.limit_hits: Counter = prom.Counter(
            "livepy_limit_hits", "Connections refused by a limit.", ["limit"], registry=registry
        )
        self.http_requests: Counter = prom.Counter(
            "livepy_http_requests",
            "HTTP fallback requests (POST update), by status.",
            ["status"],
            registry=registry,
        )

    # Each method below is a no-op when metrics are off.

    def connection_opened(self, transport: str) -> None:
        if self.enabled:
            self.connections.labels(transport).inc()
            self.connections_opened.labels(transport).inc()

    def connection_closed(self, transport: str, code: int | None) -> None:
        if self.enabled:
            self.connections.labels(transport).dec()
            self.connections_closed.labels(transport, str(code or 1000)).inc()

    def frame_received(self, transport: str, size: int) -> None:
        if self.enabled:
            self.frames_received.labels(transport).inc()
            self.bytes_received.labels(transport).inc(size)

    def frame_sent(self, transport: str, size: int) -> None:
        if self.enabled:
            self.frames_sent.labels(transport).inc()
            self.bytes_sent.labels(transport).inc(size)

    def observe_frame(self, transport: str, seconds: float) -> None:
        if self.enabled:
            self.frame_seconds.labels(transport).observe(seconds)

    def observe_render(self, component: str, seconds: float) -> None:
        """Hook for the session: the time one component's render took."""
        if self.enabled:
            self.render_seconds.labels(component).observe(seconds)

    def error(self, code: str) -> None:
        if self.enabled:
            self.errors.labels(code).inc()

    def limit_hit(self, limit: str) -> None:
        if self.enabled:
            self.limit_hits.labels(limit).inc()

    def http_request(self, status: int) -> None:
        if self.enabled:
            self.http_requests.labels(str(status)).inc()

    def exposition(self) -> tuple[bytes, str]:
        """The text exposition and its content type."""
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        assert self.registry is not None
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
