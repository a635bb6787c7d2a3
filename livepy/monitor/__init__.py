"""The live monitor: a page, built with livepy itself, that shows this process at work.

``LivePy(monitor="/livepy/monitor", monitor_auth=callback)`` serves it. ``monitor_auth`` is
required: a callable ``(request) -> bool`` (or awaitable), asked on every page load; a refusal
is a 403. The page holds one component, ``MonitorPanel``, which shows the process's open
connections (livepy WebSocket, SSE, Pusher), messages per second (frames in and out over
every open connection), broadcasts published per second, and the subscribers of every
channel the process listens on.

Figures are per process: with several workers, the page shows the worker that served its
socket. A sampler task reads them every ``MONITOR_INTERVAL`` seconds while a monitor page is
open and hands them to the panels of this process only (``hub.deliver_locally``: no broker,
no history). Each panel listens on ``private-livepy-monitor.<token>``, where the token is issued
when ``monitor_auth`` allows a page: it is signed with the secret key over the page's user id
(``live.resolve_user``) and the time of issue. The channel rule admits a token only for that
same user and only for ``token_ttl`` seconds after the page was rendered, and the sampler stops
feeding channels whose token has expired, so a token seen once is not a lasting pass: when
``monitor_auth`` turns a user away, reloading is refused and the open page goes quiet within
``token_ttl``. The page reloads itself shortly before then (``refresh_after``), which asks
``monitor_auth`` again and gets a new token: an allowed user's monitor never goes quiet.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import inspect
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

from livepy.component import Component, on
from livepy.listeners import user_id_of

if TYPE_CHECKING:
    from livepy.app import LivePy

__all__ = ["MONITOR_INTERVAL", "MONITOR_TOKEN_TTL", "Monitor", "MonitorAuth", "MonitorPanel"]

MonitorAuth = Callable[[Request], bool | Awaitable[bool]]
MONITOR_INTERVAL = 1.0
SAMPLE_EVENT = "Sample"
MAX_CHANNELS_SHOWN = 200
MONITOR_TOKEN_TTL = 3600.0  # seconds a page's token may subscribe and be fed
CHANNEL_PREFIX = "private-livepy-monitor."
CLOCK_SKEW = 60  # seconds a token may seem to come from the future (several workers)

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>livepy monitor</title>
<meta http-equiv="refresh" content="{{ refresh }}">
<style>
body{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.2rem .5rem;
border-bottom:1px solid #eee}.figures{display:flex;gap:2rem}.figures strong{font-size:1.6rem;
display:block}
</style>
{{ livepy_scripts() }}</head>
<body><h1>livepy monitor</h1>{{ livepy("livepy_monitor", token=token) }}</body></html>"""

_PANEL = """<div class="livepy-monitor">
  <div class="figures">
    <p>Connections<strong class="connections">{{ connections }}</strong>
       <small>{% for k, v in by_transport.items() %}{{ k }} {{ v }} {% endfor %}</small></p>
    <p>Messages / s<strong class="messages">{{ messages_per_second }}</strong></p>
    <p>Broadcasts / s<strong class="broadcasts">{{ broadcasts_per_second }}</strong></p>
  </div>
  <table class="channels"><thead><tr><th>Channel</th><th>Subscribers</th></tr></thead><tbody>
  {% for row in channels %}<tr lp-key="{{ row.name }}"><td>{{ row.name }}</td>
    <td class="subscribers">{{ row.subscribers }}</td></tr>{% endfor %}
  </tbody></table>
  <p><small>{{ note }}</small></p>
</div>"""


@dataclass
class ChannelRow:
    name: str
    subscribers: int


class MonitorPanel(Component):
    """The monitor's figures; updated by the sampler's events."""

    name = "livepy_monitor"
    template_source = _PANEL
    token: str = ""
    connections: int = 0
    by_transport: dict[str, int] = {}
    messages_per_second: float = 0.0
    broadcasts_per_second: float = 0.0
    channels: list[ChannelRow] = []
    note: str = "waiting for the first sample…"

    @on("private-livepy-monitor.{token}", SAMPLE_EVENT)
    def sample(self, figures: dict[str, Any]) -> None:
        self.connections = figures["connections"]
        self.by_transport = figures["by_transport"]
        self.messages_per_second = figures["messages_per_second"]
        self.broadcasts_per_second = figures["broadcasts_per_second"]
        self.channels = [ChannelRow(**row) for row in figures["channels"]]
        self.note = f"sampled every {figures['interval']:g} s on this process"


class Monitor:
    """The monitor of one LivePy: its route, its channel rule and its sampler."""

    def __init__(self, live: LivePy, path: str, auth: MonitorAuth | None) -> None:
        if not callable(auth):
            from livepy.exceptions import ConfigurationError

            raise ConfigurationError(
                "LivePy(monitor=...) needs monitor_auth=: a callable (request) -> bool that "
                "says who may see the monitor"
            )
        self.live = live
        self.path = "/" + path.strip("/")
        self.auth = auth
        secret = live.secret_key if isinstance(live.secret_key, bytes) else live.secret_key.encode()
        self._secret = secret
        self.interval = MONITOR_INTERVAL
        self.token_ttl = MONITOR_TOKEN_TTL
        self._sampler: asyncio.Task[None] | None = None
        self._broadcasts = 0
        self._frames_seen: dict[int, int] = {}
        live.broadcaster.hub.observers.append(self._count_broadcast)

        def may_watch(user: Any, token: str) -> bool:
            return self.token_valid(user, token)

        live.broadcaster.authorizer.register("livepy-monitor.{token}", may_watch)

    def _signature(self, user: Any, issued: int) -> str:
        message = f"livepy-monitor|{user_id_of(user) or ''}|{issued}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()[:32]

    def issue_token(self, user: Any, now: float | None = None) -> str:
        """A token for ``user``'s monitor page: ``<issued, hex>-<signature>``."""
        issued = int(time.time() if now is None else now)
        return f"{issued:x}-{self._signature(user, issued)}"

    def _issued_at(self, token: str) -> int | None:
        issued_hex, _, signature = token.partition("-")
        if not signature or not 0 < len(issued_hex) <= 16:
            return None
        try:
            return int(issued_hex, 16)
        except ValueError:
            return None

    def _fresh(self, issued: int, now: float | None) -> bool:
        now = time.time() if now is None else now
        return now - self.token_ttl <= issued <= now + CLOCK_SKEW

    def token_valid(self, user: Any, token: str, now: float | None = None) -> bool:
        """Was ``token`` issued to ``user`` (by this secret key) less than ``token_ttl`` ago?"""
        issued = self._issued_at(token)
        if issued is None or not self._fresh(issued, now):
            return False
        return hmac.compare_digest(token.partition("-")[2], self._signature(user, issued))

    def _live_channels(self, now: float) -> list[str]:
        """The monitor channels with listeners here whose token has not expired."""
        hub = self.live.broadcaster.hub
        live_channels = []
        for name in hub.channels():
            if not name.startswith(CHANNEL_PREFIX) or hub.listener_count(name) == 0:
                continue
            issued = self._issued_at(name[len(CHANNEL_PREFIX) :])
            if issued is not None and self._fresh(issued, now):
                live_channels.append(name)
        return live_channels

    def route(self) -> Route:
        return Route(self.path, self.endpoint, methods=["GET"])

    async def endpoint(self, request: Request) -> Response:
        allowed = self.auth(request)
        if inspect.isawaitable(allowed):
            allowed = await allowed
        if not allowed:
            return PlainTextResponse("forbidden", status_code=403)
        self.start()
        token = self.issue_token(await self.live.resolve_user(request))
        page = self.live.env.from_string(_PAGE)
        html = page.render(request=request, token=token, refresh=self.refresh_after())
        return HTMLResponse(html, headers={"Cache-Control": "no-store"})

    def refresh_after(self) -> int:
        """Seconds after which the page reloads itself: shortly before its token expires, so an
        open monitor keeps updating, with ``monitor_auth`` asked again on each reload."""
        return max(1, int(self.token_ttl - min(60.0, self.token_ttl / 10)))

    def _count_broadcast(self, channel: str, event: str, data: Any, exclude: str | None) -> None:
        self._broadcasts += 1

    def start(self) -> None:
        if self._sampler is None or self._sampler.done():
            self._sampler = asyncio.get_running_loop().create_task(self._sample_forever())

    async def stop(self) -> None:
        if self._sampler is not None:
            self._sampler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sampler

    async def _sample_forever(self) -> None:
        hub = self.live.broadcaster.hub
        idle_since = time.monotonic()
        last = time.monotonic()
        self._broadcasts = 0
        self.figures(0.0)  # sets the baseline frame counts
        while True:
            await asyncio.sleep(self.interval)
            now = time.monotonic()
            figures = self.figures(now - last)
            last = now
            watched = self._live_channels(time.time())
            if not watched:
                if now - idle_since > 30:  # nobody has watched for a while: stop sampling
                    return
                continue
            idle_since = now
            for channel in watched:
                await hub.deliver_locally(channel, SAMPLE_EVENT, figures)

    def figures(self, elapsed: float) -> dict[str, Any]:
        """This process's figures since the last call, ``elapsed`` seconds ago."""
        live = self.live
        by_transport: dict[str, int] = {}
        frames: dict[int, int] = {}
        for conn in live.connections:
            by_transport[conn.transport] = by_transport.get(conn.transport, 0) + 1
            frames[id(conn)] = conn.frames_in + conn.frames_out
        pusher = live.pusher
        if pusher is not None:
            count = sum(len(conns) for conns in pusher.connections.values())
            if count:
                by_transport["pusher"] = count
        moved = sum(n - self._frames_seen.get(key, 0) for key, n in frames.items())
        self._frames_seen = frames
        broadcasts, self._broadcasts = self._broadcasts, 0
        hub = live.broadcaster.hub
        channels = []
        for name in sorted(hub.channels())[:MAX_CHANNELS_SHOWN]:
            listeners = hub.listener_count(name)
            if pusher is not None and pusher.subscribers.get(name):
                listeners += len(pusher.subscribers[name]) - 1  # one hub listener for them all
            if not name.startswith(CHANNEL_PREFIX):
                channels.append({"name": name, "subscribers": listeners})
        rate = (lambda n: round(n / elapsed, 1)) if elapsed > 0 else (lambda n: 0.0)
        return {
            "connections": sum(by_transport.values()),
            "by_transport": by_transport,
            "messages_per_second": rate(max(0, moved)),
            "broadcasts_per_second": rate(broadcasts),
            "channels": channels,
            "interval": self.interval,
        }
