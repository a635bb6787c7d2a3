"""Pusher apps configured in Python and from LIVEPY_PUSHER_* environment variables."""

from __future__ import annotations

import pytest

from livepy import LivePy
from livepy.exceptions import ConfigurationError
from livepy.pusher import PusherApp, PusherApps


def test_from_env() -> None:
    apps = PusherApps.from_env(
        {
            "LIVEPY_PUSHER_APP_ID": "7",
            "LIVEPY_PUSHER_APP_KEY": "k",
            "LIVEPY_PUSHER_APP_SECRET": "s",
            "LIVEPY_PUSHER_ALLOWED_ORIGINS": "app.example.com, *.example.org",
            "LIVEPY_PUSHER_MAX_CONNECTIONS": "5",
            "LIVEPY_PUSHER_CLIENT_EVENTS": "none",
        }
    )
    assert apps is not None
    app = apps.by_key["k"]
    assert (app.id, app.secret, app.max_connections, app.client_events) == ("7", "s", 5, "none")
    assert app.allowed_origins == ("app.example.com", "*.example.org")
    assert app.origin_allowed("https://a.example.org")
    assert app.origin_allowed(None)
    assert not app.origin_allowed("https://example.org.evil.test")
    assert PusherApps.from_env({}) is None


def test_env_needs_key_and_secret() -> None:
    with pytest.raises(ConfigurationError, match="LIVEPY_PUSHER_APP_KEY"):
        PusherApps.from_env({"LIVEPY_PUSHER_APP_ID": "7"})


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="client_events"):
        PusherApp("1", "k", "s", client_events="some")
    with pytest.raises(ConfigurationError, match="unique"):
        PusherApps([PusherApp("1", "k", "s"), PusherApp("1", "k2", "s")])


def test_routes_only_when_configured() -> None:
    plain = LivePy(templates=[], secret_key="k")
    assert plain.pusher is None
    assert not [r for r in plain.routes() if getattr(r, "path", "").startswith("/app")]
    live = LivePy(templates=[], secret_key="k", pusher=[PusherApp("1", "k", "s")])
    paths = {getattr(r, "path", "") for r in live.routes()}
    assert {"/app/{key}", "/broadcasting/auth", "/apps/{app_id}/events"} <= paths
