"""Pusher apps: who may connect (key), who may trigger (id + secret), and each app's limits.

Configure them in Python (``PusherApps([PusherApp("1", "app-key", "app-secret")])``) or
from the environment (``LIVEPY_PUSHER_APP_ID``, ``LIVEPY_PUSHER_APP_KEY``,
``LIVEPY_PUSHER_APP_SECRET``, optionally ``LIVEPY_PUSHER_ALLOWED_ORIGINS`` comma-separated,
``LIVEPY_PUSHER_MAX_CONNECTIONS``, ``LIVEPY_PUSHER_ACTIVITY_TIMEOUT``,
``LIVEPY_PUSHER_MAX_MESSAGE_SIZE``, ``LIVEPY_PUSHER_CLIENT_EVENTS``,
``LIVEPY_PUSHER_CLIENT_EVENT_RATE``, ``LIVEPY_PUSHER_SUBSCRIPTION_COUNT``,
``LIVEPY_PUSHER_MAX_PRESENCE_MEMBERS`` (a number, or ``none``), ``LIVEPY_PUSHER_WEBHOOKS``
(comma-separated URLs), ``LIVEPY_PUSHER_WEBHOOK_EVENTS`` (comma-separated),
``LIVEPY_PUSHER_ENCRYPTION_MASTER_KEY_BASE64``).
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import importlib.util
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from livepy.channels.presence_limits import MAX_PRESENCE_MEMBERS, PresenceLimits
from livepy.exceptions import ConfigurationError
from livepy.pusher.users import UserData, default_user_data
from livepy.pusher.webhooks import WEBHOOK_EVENTS

__all__ = ["CLIENT_EVENT_POLICIES", "PusherApp", "PusherApps"]

CLIENT_EVENT_POLICIES = ("members", "all", "none")


@dataclass(frozen=True, slots=True)
class PusherApp:
    """One Pusher application.

    ``allowed_origins``: ``("*",)`` or host globs (``"*.example.com"``); a socket without an
    Origin header (not a browser) is always let in. ``max_connections`` counts every socket
    of the app on this process (None: no limit). ``client_events``: ``"members"`` (the
    sender must be subscribed), ``"all"``, or ``"none"``. ``client_event_rate``: client
    events per second per socket. ``encryption_master_key_base64`` (32 bytes) lets the auth
    endpoint hand out ``shared_secret`` for ``private-encrypted-`` channels; the server only
    relays their payloads, never decrypts them. ``subscription_count``: send
    ``pusher_internal:subscription_count`` to the subscribers of non-presence channels when
    their count changes (debounced), as Pusher does when the feature is enabled.
    ``max_presence_members``: Pusher's cap of distinct users per presence channel (None: no
    cap); a user id is at most 128 characters and a user's info at most 1 KB of JSON either
    way. The first app's cap also holds for livepy components joining presence channels.
    ``webhooks``: URLs that get the app's ``webhook_events`` (default: all of
    ``channel_occupied``, ``channel_vacated``, ``member_added``, ``member_removed``,
    ``client_event``), batched and signed (see ``livepy.pusher.webhooks``; needs httpx).
    """

    id: str
    key: str
    secret: str
    allowed_origins: tuple[str, ...] = ("*",)
    max_connections: int | None = None
    activity_timeout: int = 30
    max_message_size: int = 10_000
    max_request_size: int = 100_000
    client_events: str = "members"
    client_event_rate: float = 10.0
    encryption_master_key_base64: str | None = None
    subscription_count: bool = False
    max_presence_members: int | None = MAX_PRESENCE_MEMBERS
    webhooks: tuple[str, ...] = ()
    webhook_events: tuple[str, ...] = WEBHOOK_EVENTS

    def __post_init__(self) -> None:
        if not (self.id and self.key and self.secret):
            raise ConfigurationError("a Pusher app needs an id, a key and a secret")
        if self.client_events not in CLIENT_EVENT_POLICIES:
            raise ConfigurationError(
                f"client_events must be one of {', '.join(CLIENT_EVENT_POLICIES)}, "
                f"not {self.client_events!r}"
            )
        if self.activity_timeout <= 0 or self.max_message_size <= 0:
            raise ConfigurationError("activity_timeout and max_message_size must be positive")
        if self.max_presence_members is not None and self.max_presence_members <= 0:
            raise ConfigurationError("max_presence_members must be positive (or None: no cap)")
        self._check_webhooks()
        if self.encryption_master_key_base64 is not None:
            try:
                key = base64.b64decode(self.encryption_master_key_base64, validate=True)
            except ValueError:
                key = b""
            if len(key) != 32:
                raise ConfigurationError("encryption_master_key_base64 must be 32 bytes, base64")

    def _check_webhooks(self) -> None:
        # Lists are accepted and kept as tuples: the app stays hashable and immutable.
        object.__setattr__(self, "webhooks", tuple(self.webhooks))
        object.__setattr__(self, "webhook_events", tuple(self.webhook_events))
        for url in self.webhooks:
            if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
                raise ConfigurationError(f"webhook URL {url!r} must be an http(s) URL")
        unknown = sorted(set(self.webhook_events) - set(WEBHOOK_EVENTS))
        if unknown:
            raise ConfigurationError(
                f"unknown webhook event {unknown[0]!r} (one of {', '.join(WEBHOOK_EVENTS)})"
            )
        if self.webhooks and importlib.util.find_spec("httpx") is None:
            raise ConfigurationError("webhooks need httpx: pip install 'livepy[webhooks]'")

    @property
    def presence_limits(self) -> PresenceLimits:
        return PresenceLimits(max_members=self.max_presence_members)

    def shared_secret(self, channel: str) -> str | None:
        """The base64 key of a ``private-encrypted-`` channel, as the Pusher SDKs derive it."""
        if self.encryption_master_key_base64 is None:
            return None
        master = base64.b64decode(self.encryption_master_key_base64)
        return base64.b64encode(hashlib.sha256(channel.encode() + master).digest()).decode()

    def origin_allowed(self, origin: str | None) -> bool:
        if origin is None or "*" in self.allowed_origins:
            return True
        host = urlsplit(origin).hostname or origin
        return any(fnmatch.fnmatchcase(host, pattern) for pattern in self.allowed_origins)


class PusherApps:
    """The apps one LivePy serves, found by key (sockets) or by id (HTTP API).

    ``user_data(user)`` turns the user ``live.resolve_user`` finds into the ``user_data`` of
    ``pusher:signin`` (a dict with an ``id``, or None to refuse); the default takes a dict's
    ``id``, an object's ``id`` attribute, or a string or number user as the id.
    """

    def __init__(
        self, apps: Iterable[PusherApp], *, path: str = "", user_data: UserData | None = None
    ) -> None:
        self.user_data: UserData = user_data or default_user_data
        self.apps = list(apps)
        if not self.apps:
            raise ConfigurationError("PusherApps needs at least one PusherApp")
        self.by_key = {app.key: app for app in self.apps}
        self.by_id = {app.id: app for app in self.apps}
        if len(self.by_key) != len(self.apps) or len(self.by_id) != len(self.apps):
            raise ConfigurationError("Pusher app ids and keys must be unique")
        self.path = "/" + path.strip("/") if path.strip("/") else ""

    @property
    def default(self) -> PusherApp:
        """The app the channel auth endpoint signs for: the first one."""
        return self.apps[0]

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> PusherApps | None:
        """The app named by ``LIVEPY_PUSHER_APP_*``, or None when none is configured."""
        env = os.environ if environ is None else environ
        app_id = env.get("LIVEPY_PUSHER_APP_ID")
        if not app_id:
            return None
        key, secret = env.get("LIVEPY_PUSHER_APP_KEY"), env.get("LIVEPY_PUSHER_APP_SECRET")
        if not key or not secret:
            raise ConfigurationError(
                "LIVEPY_PUSHER_APP_ID is set: LIVEPY_PUSHER_APP_KEY and "
                "LIVEPY_PUSHER_APP_SECRET are needed too"
            )
        origins = env.get("LIVEPY_PUSHER_ALLOWED_ORIGINS", "*")
        max_connections = env.get("LIVEPY_PUSHER_MAX_CONNECTIONS")
        members = env.get("LIVEPY_PUSHER_MAX_PRESENCE_MEMBERS", str(MAX_PRESENCE_MEMBERS))
        webhooks = env.get("LIVEPY_PUSHER_WEBHOOKS", "")
        webhook_events = env.get("LIVEPY_PUSHER_WEBHOOK_EVENTS", ",".join(WEBHOOK_EVENTS))
        try:
            app = PusherApp(
                app_id,
                key,
                secret,
                allowed_origins=tuple(o.strip() for o in origins.split(",") if o.strip()),
                max_connections=int(max_connections) if max_connections else None,
                activity_timeout=int(env.get("LIVEPY_PUSHER_ACTIVITY_TIMEOUT", "30")),
                max_message_size=int(env.get("LIVEPY_PUSHER_MAX_MESSAGE_SIZE", "10000")),
                client_events=env.get("LIVEPY_PUSHER_CLIENT_EVENTS", "members"),
                encryption_master_key_base64=env.get("LIVEPY_PUSHER_ENCRYPTION_MASTER_KEY_BASE64"),
                client_event_rate=float(env.get("LIVEPY_PUSHER_CLIENT_EVENT_RATE", "10")),
                subscription_count=env.get("LIVEPY_PUSHER_SUBSCRIPTION_COUNT", "").lower()
                in ("1", "true", "yes", "on"),
                max_presence_members=None if members.lower() == "none" else int(members),
                webhooks=_listed(webhooks),
                webhook_events=_listed(webhook_events),
            )
        except ValueError as exc:
            raise ConfigurationError(f"bad LIVEPY_PUSHER_* setting: {exc}") from None
        return cls([app], path=env.get("LIVEPY_PUSHER_PATH", ""))


def _listed(value: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in value.split(",") if item.strip())
