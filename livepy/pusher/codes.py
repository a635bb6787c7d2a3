"""Pusher protocol error codes (pusher-js acts on the close code: refuse, back off, retry)."""

from __future__ import annotations

APP_NOT_FOUND = 4001  # refused: no retry
OVER_QUOTA = 4004  # refused: no retry
UNAUTHORIZED = 4009  # refused: bad origin, signature, or whisper from a non-member
OVER_CAPACITY = 4100  # back off and retry
GENERIC_RECONNECT = 4200  # retry now; also "Invalid message format"
PONG_NOT_RECEIVED = 4201
CLIENT_EVENT_REJECTED = 4301
