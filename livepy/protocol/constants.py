"""Wire constants: frame types, error codes, DOM attribute names and limits.

Every name here has a twin in ``js/constants.js`` with the same value; a test keeps
the two files identical. Frame types are small integers and error codes are short
strings, so that frames stay small and errors stay readable in a trace.
"""

from __future__ import annotations

__all__ = [
    "ATTR_ID",
    "ATTR_KEY",
    "ATTR_LISTEN",
    "ATTR_SNAPSHOT",
    "ATTR_URL",
    "DEFAULT_HEARTBEAT_INTERVAL",
    "DEFAULT_MAX_CALLS_PER_FRAME",
    "DEFAULT_MAX_COMPONENTS_PER_CONNECTION",
    "DEFAULT_MAX_FRAME_BYTES",
    "DEFAULT_MAX_WHISPERS_PER_SECOND",
    "EFFECT_HOOK_EVENT",
    "ERR_BAD_ARGUMENT",
    "ERR_BAD_FRAME",
    "ERR_BAD_UPDATE",
    "ERR_BAD_URL",
    "ERR_CHANNEL_FORBIDDEN",
    "ERR_COMPONENT_ERROR",
    "ERR_FRAME_TOO_LARGE",
    "ERR_HISTORY_LOST",
    "ERR_LOCKED_FIELD",
    "ERR_NOT_JOINED",
    "ERR_SNAPSHOT_EXPIRED",
    "ERR_SNAPSHOT_INVALID",
    "ERR_TOO_MANY_CALLS",
    "ERR_TOO_MANY_COMPONENTS",
    "ERR_UNKNOWN_ACTION",
    "ERR_UNKNOWN_COMPONENT",
    "ERR_UNKNOWN_EVENT",
    "ERR_WHISPER_RATE_LIMITED",
    "ERR_WHISPER_REFUSED",
    "FRAME_CALL",
    "FRAME_ERROR",
    "FRAME_EVENT",
    "FRAME_JOIN",
    "FRAME_JOINED",
    "FRAME_NAVIGATE",
    "FRAME_PAGE",
    "FRAME_PING",
    "FRAME_PONG",
    "FRAME_REPLY",
    "FRAME_RESYNC",
    "FRAME_SUBSCRIBE",
    "FRAME_UNSUBSCRIBE",
    "FRAME_WHISPER",
    "MAC_BYTES",
    "SNAPSHOT_VERSION",
    "WS_CLOSE_HEARTBEAT_TIMEOUT",
    "WS_CLOSE_ORIGIN_REFUSED",
    "WS_CLOSE_SERVICE_RESTART",
    "WS_CLOSE_SLOW_CONSUMER",
    "WS_CLOSE_TOO_MANY_CONNECTIONS",
]

# Frame types: the first element of every frame (a msgpack array).
FRAME_JOIN = 1  # client -> server: [1, [[cid, [name, cid, issued_at, state, mac]], ...]]
FRAME_CALL = 2  # client -> server: [2, ref, seq, updates, calls]
FRAME_REPLY = 3  # server -> client: [3, ref, seq, render | nil, patch | nil(, effects)]
FRAME_ERROR = 4  # server -> client: [4, code, message, cid | nil, seq | nil, detail | nil]
FRAME_PING = 5  # either way: [5]
FRAME_PONG = 6  # either way: [6]
FRAME_JOINED = 7  # server -> client: [7, cid, ref, html, snap_patch | nil]
FRAME_RESYNC = 8  # client -> server: [8, ref]
FRAME_SUBSCRIBE = 9  # client -> server: [9, channel] (a channel the page's JS listens on)
FRAME_UNSUBSCRIBE = 10  # client -> server: [10, channel]
FRAME_WHISPER = 11  # client -> server: [11, channel, event, data] (relayed as client-<event>)
FRAME_EVENT = 12  # server -> client: [12, channel, event, data] (for the page's JS listeners)
FRAME_NAVIGATE = 13  # client -> server: [13, nav, url, cookies | nil]
FRAME_PAGE = 14  # server -> client: [14, nav, status, url, html | nil, error | nil]

# Error codes carried by FRAME_ERROR. Documented in docs/reference/errors.md.
ERR_BAD_FRAME = "bad_frame"
ERR_FRAME_TOO_LARGE = "frame_too_large"
ERR_TOO_MANY_CALLS = "too_many_calls"
ERR_TOO_MANY_COMPONENTS = "too_many_components"
ERR_UNKNOWN_COMPONENT = "unknown_component"
ERR_NOT_JOINED = "not_joined"
ERR_SNAPSHOT_INVALID = "snapshot_invalid"
ERR_SNAPSHOT_EXPIRED = "snapshot_expired"
ERR_UNKNOWN_ACTION = "unknown_action"
ERR_BAD_ARGUMENT = "bad_argument"
ERR_BAD_UPDATE = "bad_update"
ERR_COMPONENT_ERROR = "component_error"
ERR_CHANNEL_FORBIDDEN = "channel_forbidden"
ERR_HISTORY_LOST = "history_lost"
ERR_LOCKED_FIELD = "locked_field"  # a model update named a Locked field
ERR_UNKNOWN_EVENT = "unknown_event"  # a dispatched event reached a component not listening
ERR_BAD_URL = "bad_url"  # a NAVIGATE named no same-origin path, or cannot be served here
ERR_WHISPER_REFUSED = "whisper_refused"  # public channel, channel not subscribed, bad name
ERR_WHISPER_RATE_LIMITED = "whisper_rate_limited"  # over Limits.max_whispers_per_second

# Effect kinds a REPLY may carry (see js/effects.js).
EFFECT_HOOK_EVENT = "hook_event"  # [event, data] for the component's lp-hook handleEvent()

# WebSocket close codes (4000-4999 is the application range).
WS_CLOSE_ORIGIN_REFUSED = 4403  # do not retry
WS_CLOSE_TOO_MANY_CONNECTIONS = 4429  # retry after a long backoff
WS_CLOSE_HEARTBEAT_TIMEOUT = 4408  # reconnect
WS_CLOSE_SERVICE_RESTART = 1012  # the server is draining: reconnect elsewhere soon
WS_CLOSE_SLOW_CONSUMER = 4008  # the client fell behind: reconnect and catch up

# Attributes the server puts on each component's root element.
ATTR_ID = "lp-id"
ATTR_SNAPSHOT = "lp-snapshot"
ATTR_KEY = "lp-key"
ATTR_LISTEN = "lp-listen"  # the component events a component listens to (@on)
ATTR_URL = "lp-url"

# Snapshot: [name, cid, issued_at, state, mac]; see docs/topics/protocol.md.
SNAPSHOT_VERSION = 2
MAC_BYTES = 8

# Default limits, each overridable on LivePy(...).
DEFAULT_MAX_FRAME_BYTES = 65536
DEFAULT_MAX_CALLS_PER_FRAME = 20
DEFAULT_MAX_COMPONENTS_PER_CONNECTION = 100
DEFAULT_HEARTBEAT_INTERVAL = 15
DEFAULT_MAX_WHISPERS_PER_SECOND = 10
