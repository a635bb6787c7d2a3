"""Pusher's presence limits, shared by pusher-js members and livepy components.

Pusher caps a presence channel at 100 members, a user id at 128 characters and a user's
info at 1 KB (its JSON), because every join and leave goes to every member. livepy keeps
one member list per presence channel for both sides (the broker's presence store), so both
sides check a newcomer the same way here: a user already present (another tab, another
component) is never refused for the count, only a new user over the cap.

Concurrent joins on several processes each read the list before writing their own entry, so
under a burst a channel can end a member or two over the cap; the cap is a guard against
unbounded rosters, not an exact quota.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

import msgpack

from livepy.broker import BrokerError, Hub

__all__ = [
    "MAX_PRESENCE_MEMBERS",
    "MAX_USER_ID",
    "MAX_USER_INFO_BYTES",
    "PresenceLimits",
    "member_ids",
]

logger = logging.getLogger("livepy.broadcasting")

MAX_PRESENCE_MEMBERS = 100
MAX_USER_ID = 128
MAX_USER_INFO_BYTES = 1024


@dataclass(frozen=True, slots=True)
class PresenceLimits:
    """``max_members`` None: no cap on the count (the id and info caps still hold)."""

    max_members: int | None = MAX_PRESENCE_MEMBERS
    max_user_id: int = MAX_USER_ID
    max_user_info_bytes: int = MAX_USER_INFO_BYTES

    def bad_member(self, user_id: str, user_info: Any) -> str | None:
        """Why this member's id or info is refused, or None."""
        if len(user_id) > self.max_user_id:
            return f"user id over {self.max_user_id} characters"
        size = len(json.dumps(user_info, separators=(",", ":"), default=str).encode())
        if size > self.max_user_info_bytes:
            return f"user info over {self.max_user_info_bytes} bytes ({size} as JSON)"
        return None

    async def full(self, hub: Hub, channel: str, user_id: str) -> str | None:
        """Why a new ``user_id`` may not join ``channel`` now (it is full), or None.

        A broker that cannot be read lets the member in: presence degrades, it is not
        refused because of an outage.
        """
        if self.max_members is None:
            return None
        try:
            await hub.start()  # idempotent: the first subscriber of a process may ask first
            present = member_ids(await hub.backend.presence_members(channel))
        except BrokerError as exc:
            logger.warning("event=presence_limit_unchecked channel=%s error=%s", channel, exc)
            return None
        if user_id not in present and len(present) >= self.max_members:
            return f"presence channel {channel!r} is full ({self.max_members} members)"
        return None


def member_ids(entries: dict[str, bytes]) -> set[str]:
    """The distinct user ids among a presence channel's entries (one per tab or component)."""
    ids = set()
    for raw in entries.values():
        try:
            member = msgpack.unpackb(raw, raw=False)
        except Exception:  # a damaged entry is no member
            continue
        if isinstance(member, dict) and member.get("id") is not None:
            ids.add(str(member["id"]))
    return ids
