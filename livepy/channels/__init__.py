"""Channels: names and kinds, and who may subscribe to which."""

from livepy.channels.auth import Authorization, ChannelAuthorizer
from livepy.channels.names import ChannelKind, kind_of, validate_channel_name, without_prefix

__all__ = [
    "Authorization",
    "ChannelAuthorizer",
    "ChannelKind",
    "kind_of",
    "validate_channel_name",
    "without_prefix",
]
