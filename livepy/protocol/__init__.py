"""The sans-I/O protocol core: frames, their codec and limits, signed snapshots.

Imports only the standard library, msgpack and itsdangerous (a test enforces it).
"""

from livepy.protocol import constants
from livepy.protocol.errors import ProtocolError
from livepy.protocol.frames import (
    Call,
    ErrorFrame,
    Join,
    Joined,
    JoinItem,
    Ping,
    Pong,
    Reply,
    Resync,
    decode_client_frame,
    decode_server_frame,
    encode,
)
from livepy.protocol.htmldiff import apply_diff, checksum, diff_html
from livepy.protocol.snapshot import Snapshot, Snapshotter, b64decode, b64encode, canonical
from livepy.protocol.statepatch import apply_ops, diff_state

__all__ = [
    "Call",
    "ErrorFrame",
    "Join",
    "JoinItem",
    "Joined",
    "Ping",
    "Pong",
    "ProtocolError",
    "Reply",
    "Resync",
    "Snapshot",
    "Snapshotter",
    "apply_diff",
    "apply_ops",
    "b64decode",
    "b64encode",
    "canonical",
    "checksum",
    "constants",
    "decode_client_frame",
    "decode_server_frame",
    "diff_html",
    "diff_state",
    "encode",
]
