"""Pusher webhooks: channel and member changes and client events, POSTed to the app's URLs.

An event is queued without waiting (``WebhookQueue.emit``) and a background task sends it:
the events of a short window go out together in one body per app,
``{"time_ms": ..., "events": [...]}``, signed as Pusher signs webhooks: ``X-Pusher-Key`` is the
app key and ``X-Pusher-Signature`` the hex HMAC-SHA256 of the body with the app secret (what
the SDKs' ``validate_webhook`` checks). A URL that fails (a connection error, a timeout or a
status other than 2xx) is tried ``RETRIES`` more times with a growing pause; then the batch is
dropped for that URL and logged. The queue holds at most ``MAX_QUEUED`` events: past that,
events are dropped and counted in the log, so a dead receiver never holds memory or the event
loop. The task runs only while there is something to send.

httpx sends the requests (``pip install 'livepy[webhooks]'``); it is imported when an app with
webhooks is configured.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from livepy.broker import BrokerError
from livepy.channels.presence_limits import member_ids
from livepy.pusher.shared import subscriptions_tally

if TYPE_CHECKING:
    from livepy.pusher.config import PusherApp
    from livepy.pusher.server import PusherServer

__all__ = [
    "BATCH_WINDOW",
    "MAX_BATCH",
    "MAX_QUEUED",
    "RETRIES",
    "WEBHOOK_EVENTS",
    "WebhookQueue",
    "WebhookReporter",
    "webhook_signature",
]

logger = logging.getLogger("livepy.pusher")

WEBHOOK_EVENTS = (
    "channel_occupied",
    "channel_vacated",
    "member_added",
    "member_removed",
    "client_event",
)
MAX_QUEUED = 10_000  # events waiting to be sent, over every app
MAX_BATCH = 100  # events per POST
BATCH_WINDOW = 0.05  # seconds the first event of a batch waits for company
RETRIES = 3  # more attempts per URL after the first
RETRY_DELAY = 0.5  # seconds before the first retry, doubled each time
TIMEOUT = 5.0  # seconds per request


def webhook_signature(secret: str, body: bytes) -> str:
    """The ``X-Pusher-Signature`` of a webhook body."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookQueue:
    """The webhook events of one process, waiting to be sent."""

    def __init__(self) -> None:
        self._queue: deque[tuple[PusherApp, dict[str, Any]]] = deque()
        self._sender: asyncio.Task[None] | None = None
        self._dropped = 0
        self.retry_delay = RETRY_DELAY  # tests shorten it
        self.batch_window = BATCH_WINDOW

    def wants(self, app: PusherApp, name: str) -> bool:
        return bool(app.webhooks) and name in app.webhook_events

    def emit(self, app: PusherApp, name: str, **fields: Any) -> None:
        """Queue ``{"name": name, **fields}`` for ``app``'s webhooks; never waits."""
        if not self.wants(app, name):
            return
        if len(self._queue) >= MAX_QUEUED:
            self._dropped += 1
            if self._dropped == 1 or self._dropped % 1000 == 0:
                logger.warning("event=webhook_dropped reason=queue_full dropped=%d", self._dropped)
            return
        self._queue.append((app, {"name": name, **fields}))
        if self._sender is None or self._sender.done():
            self._sender = asyncio.get_running_loop().create_task(self._send_all())

    async def _send_all(self) -> None:
        while self._queue:
            await asyncio.sleep(self.batch_window)  # let the events of a burst join the batch
            batches: dict[str, tuple[PusherApp, list[dict[str, Any]]]] = {}
            for _ in range(min(MAX_BATCH, len(self._queue))):
                app, event = self._queue.popleft()
                batches.setdefault(app.id, (app, []))[1].append(event)
            for app, events in batches.values():
                try:
                    await self._post(app, events)
                except Exception:  # a bug or odd URL must not strand the rest of the queue
                    logger.exception("event=webhook_failed app=%s events=%d", app.id, len(events))

    async def _post(self, app: PusherApp, events: list[dict[str, Any]]) -> None:
        import httpx  # an optional dependency, checked when the app was configured

        body = json.dumps({"time_ms": int(time.time() * 1000), "events": events}).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Pusher-Key": app.key,
            "X-Pusher-Signature": webhook_signature(app.secret, body),
        }
        async with httpx.AsyncClient(timeout=TIMEOUT) as client:
            await asyncio.gather(
                *(self._post_one(client, url, body, headers, len(events)) for url in app.webhooks)
            )

    async def _post_one(
        self, client: Any, url: str, body: bytes, headers: dict[str, str], count: int
    ) -> None:
        import httpx

        delay = self.retry_delay
        for attempt in range(RETRIES + 1):
            try:
                response = await client.post(url, content=body, headers=headers)
                if 200 <= response.status_code < 300:
                    return
                problem = f"status {response.status_code}"
            except httpx.HTTPError as exc:
                problem = type(exc).__name__
            if attempt < RETRIES:
                await asyncio.sleep(delay)
                delay *= 2
        logger.warning(
            "event=webhook_failed url=%s events=%d attempts=%d error=%s",
            url,
            count,
            RETRIES + 1,
            problem,
        )

    async def idle(self) -> None:
        """Wait until everything queued now was sent or given up (tests, shutdown)."""
        sender = self._sender
        if sender is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(sender)


class WebhookReporter:
    """When to report: the protocol server calls these at its subscription changes.

    ``channel_occupied`` / ``channel_vacated`` follow pusher subscribers on every process (the
    shared subscription tallies), ``member_added`` / ``member_removed`` the shared presence list
    (a user's first entry in, their last entry out, whichever side it came from). When two
    processes change the same channel at the same instant, both may report it: receivers should
    treat a repeated event as harmless, which Pusher asks of them too. Nothing is read from the
    broker unless an app wants the event.
    """

    def __init__(self, server: PusherServer) -> None:
        self.server = server
        self.queue = WebhookQueue()

    def _occupancy_wanted(self, app: PusherApp, name: str, channel: str) -> bool:
        # '#server-to-user-' channels are livepy's plumbing for send_to_user, not app channels.
        return self.queue.wants(app, name) and not channel.startswith("#")

    async def _others(self, channel: str) -> int:
        """Pusher subscribers of ``channel`` on the other processes (by their stored shares)."""
        return await self.server.tallies.total(subscriptions_tally(channel), 0)

    async def before_first_subscriber(self, app: PusherApp, channel: str) -> None:
        """Read before this process stores its share: of two processes that gain the first
        subscriber together, at least one sees the other at zero and reports."""
        if (
            self._occupancy_wanted(app, "channel_occupied", channel)
            and await self._quietly(self._others, channel) == 0
        ):
            self.queue.emit(app, "channel_occupied", channel=channel)

    async def after_last_subscriber(self, app: PusherApp, channel: str) -> None:
        """Read after this process stored zero: at least one of two leaving together reports."""
        if (
            self._occupancy_wanted(app, "channel_vacated", channel)
            and await self._quietly(self._others, channel) == 0
        ):
            self.queue.emit(app, "channel_vacated", channel=channel)

    async def member_present(self, app: PusherApp, channel: str, user_id: str) -> bool | None:
        """Is ``user_id`` in the channel's shared member list? None when nobody asks."""
        if not (self.queue.wants(app, "member_added") or self.queue.wants(app, "member_removed")):
            return None
        hub = self.server.hub
        present = await self._quietly(lambda ch: hub.backend.presence_members(ch), channel)
        return None if present is None else user_id in member_ids(present)

    def member_added(self, app: PusherApp, channel: str, user_id: str) -> None:
        self.queue.emit(app, "member_added", channel=channel, user_id=user_id)

    def member_removed(self, app: PusherApp, channel: str, user_id: str) -> None:
        self.queue.emit(app, "member_removed", channel=channel, user_id=user_id)

    def client_event(
        self,
        app: PusherApp,
        channel: str,
        event: str,
        data: Any,
        socket_id: str,
        user_id: str | None,
    ) -> None:
        fields: dict[str, Any] = {
            "channel": channel,
            "event": event,
            "data": data if isinstance(data, str) else json.dumps(data),
            "socket_id": socket_id,
        }
        if user_id is not None:
            fields["user_id"] = user_id
        self.queue.emit(app, "client_event", **fields)

    @staticmethod
    async def _quietly(read: Callable[[str], Awaitable[Any]], channel: str) -> Any:
        try:
            return await read(channel)
        except BrokerError as exc:  # no report rather than a failed subscribe
            logger.warning("event=webhook_unchecked channel=%s error=%s", channel, exc)
            return None
