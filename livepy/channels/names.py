"""Channel names and kinds, as Pusher and Reverb name them.

``orders`` is public, ``private-orders.42`` private, ``presence-room.1`` presence. The part
after the prefix is what an authorization pattern such as ``orders.{order_id}`` matches.
"""

from __future__ import annotations

import enum
import re

__all__ = ["ChannelKind", "kind_of", "validate_channel_name", "without_prefix"]

_VALID = re.compile(r"^[A-Za-z0-9_\-=@,.;]{1,200}$")


class ChannelKind(enum.Enum):
    PUBLIC = "public"
    PRIVATE = "private"
    PRESENCE = "presence"


def kind_of(channel: str) -> ChannelKind:
    if channel.startswith("presence-"):
        return ChannelKind.PRESENCE
    if channel.startswith("private-"):
        return ChannelKind.PRIVATE
    return ChannelKind.PUBLIC


def without_prefix(channel: str) -> str:
    for prefix in ("private-encrypted-", "presence-", "private-"):
        if channel.startswith(prefix):
            return channel[len(prefix) :]
    return channel


def validate_channel_name(channel: str) -> str:
    """Pusher's rule: 1-200 characters of ``[A-Za-z0-9_\\-=@,.;]``."""
    if not isinstance(channel, str) or not _VALID.match(channel):
        raise ValueError(
            f"invalid channel name {channel!r}: use 1 to 200 of the characters A-Z a-z 0-9 _-=@,.;"
        )
    return channel
