"""Graceful shutdown: drain the open connections, spread out, before the server closes them.

How uvicorn shuts down (0.30 to 0.54, read from its ``Server.shutdown``): on SIGTERM/SIGINT its
handler only sets ``should_exit``; within 0.1 s its main loop then closes the listening sockets,
calls ``shutdown()`` on every connection, which closes every WebSocket at once with 1012 and
lets HTTP responses in progress finish, waits for all connections to end (forever, unless
``--timeout-graceful-shutdown``), and only then runs the ASGI lifespan shutdown. So the
lifespan shutdown is too late to spread anything, and an endless SSE stream would hold the
process up indefinitely.

So ``live.install(app)`` wraps the app's lifespan (see :func:`wrap_lifespan`). At startup, when
uvicorn is serving in the main thread, it finds uvicorn's signal handler and puts its own in
front of it (:class:`UvicornHook`). On the first SIGTERM/SIGINT, livepy drains: new sockets get
1012, open ones are asked to close with 1012 ("reconnect elsewhere") at evenly spaced moments
over ``drain_seconds``, SSE streams end with a ``retry:`` hint; then it hands the signal to
uvicorn, which shuts down as usual and finds nothing left to wait for. A second signal skips
the drain. When something else sets ``should_exit`` (a test, ``--limit-max-requests``),
livepy notices within 0.1 s and ends its SSE streams so the shutdown is not held up.

Elsewhere (another ASGI server, uvicorn in a thread) the lifespan shutdown drains whatever is
still open, and ``await live.drain()`` can be called from your own shutdown code.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
import time
from collections.abc import AsyncIterator, Callable
from types import FrameType
from typing import TYPE_CHECKING, Any

from livepy.protocol import constants as c
from livepy.transport.logfmt import log_event

if TYPE_CHECKING:
    from livepy.app import LivePy

__all__ = ["DRAIN_MIN_RATE", "UvicornHook", "drain", "wrap_lifespan"]

logger = logging.getLogger("livepy.transport")

# Closes per second when there are few connections: a handful of clients do not stampede, so
# they are released at once rather than held for the whole drain time.
DRAIN_MIN_RATE = 20.0
DRAIN_REASON = "server restarting"
POLL_SECONDS = 0.1

SignalHandler = Callable[[int, FrameType | None], Any]


async def drain(live: LivePy, seconds: float) -> None:
    """Refuse new connections (1012) and close the open ones with 1012, spread over ``seconds``.

    The closes are evenly spaced over ``min(seconds, open / DRAIN_MIN_RATE)``; then this waits
    for the connections to end, until ``seconds`` (plus one second of grace) have passed.
    """
    registry = live.connections
    registry.draining = True
    conns = list(registry)
    loop = asyncio.get_running_loop()
    started = loop.time()
    window = min(seconds, len(conns) / DRAIN_MIN_RATE)
    log_event(
        logger, logging.INFO, "drain_start", open=len(conns), drain_s=seconds,
        window_s=round(window, 3),
    )  # fmt: skip
    for index, conn in enumerate(conns):
        delay = started + window * index / max(len(conns), 1) - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        conn.request_close(c.WS_CLOSE_SERVICE_RESTART, DRAIN_REASON)
    remaining = max(0.0, started + seconds - loop.time()) + 1.0
    empty = await registry.wait_empty(remaining)
    log_event(
        logger, logging.INFO, "drain_end", left_open=len(registry), complete=empty,
        elapsed_s=round(loop.time() - started, 3),
    )  # fmt: skip


def _uvicorn_server(handler: object) -> Any | None:
    """The uvicorn ``Server`` whose ``handle_exit`` is ``handler``, if it is one."""
    owner = getattr(handler, "__self__", None)
    if owner is None:
        return None
    try:
        from uvicorn.server import Server
    except ImportError:  # pragma: no cover - uvicorn is a dependency
        return None
    return owner if isinstance(owner, Server) else None


class UvicornHook:
    """Puts livepy's drain in front of uvicorn's SIGTERM/SIGINT handling (see module doc)."""

    SIGNALS = (signal.SIGTERM, signal.SIGINT)

    def __init__(self, live: LivePy) -> None:
        self.live = live
        self.server: Any | None = None
        self.previous: dict[int, SignalHandler] = {}
        self.signal: int | None = None
        self.signalled_at = 0.0
        self.task: asyncio.Task[None] | None = None

    def install(self) -> bool:
        """Hook in when uvicorn serves from the main thread; False when it does not."""
        if threading.current_thread() is not threading.main_thread():
            return False
        for sig in self.SIGNALS:
            handler = signal.getsignal(sig)
            server = _uvicorn_server(handler)
            if server is None or not callable(handler):
                continue
            self.server = server
            self.previous[sig] = handler
            signal.signal(sig, self._handle)
        if self.server is None:
            return False
        self.task = asyncio.get_running_loop().create_task(self._watch())
        return True

    async def uninstall(self) -> None:
        if threading.current_thread() is threading.main_thread():
            for sig, handler in self.previous.items():
                if signal.getsignal(sig) == self._handle:
                    signal.signal(sig, handler)
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        # Runs between two bytecodes of the main thread: only set attributes here (as uvicorn's
        # own handler does); the watcher task does the work.
        if self.signal is not None or self.live.drain_seconds <= 0:
            self.previous[signum](signum, frame)  # a second signal: no (more) draining
            return
        self.signal = signum
        self.signalled_at = time.monotonic()

    async def _watch(self) -> None:
        while self.signal is None:
            if getattr(self.server, "should_exit", False):
                # Shutdown started without us: end the streams uvicorn would wait for forever.
                await drain(self.live, 0.0)
                return
            await asyncio.sleep(POLL_SECONDS)
        sig = self.signal
        log_event(logger, logging.INFO, "signal", signal=signal.Signals(sig).name)
        try:
            await drain(self.live, self.live.drain_seconds)
        finally:
            if not getattr(self.server, "should_exit", False):
                self.previous[sig](sig, None)


def wrap_lifespan(live: LivePy, router: Any) -> None:
    """Wrap a Starlette router's lifespan with livepy's startup hook and shutdown drain."""
    original: Callable[[Any], contextlib.AbstractAsyncContextManager[Any]] = router.lifespan_context
    if getattr(original, "__livepy__", None) is live:
        return

    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[Any]:
        live.connections.draining = False  # the same LivePy may be served again in this process
        hook = UvicornHook(live)
        hook.install()
        try:
            async with original(app) as state:
                yield state
        finally:
            await hook.uninstall()
            live.connections.draining = True
            if len(live.connections):  # under uvicorn they are all gone by now
                await drain(live, live.drain_seconds)

    lifespan.__livepy__ = live  # type: ignore[attr-defined]
    router.lifespan_context = lifespan
