"""The sans-I/O protocol core: frames, their codec and limits, signed snapshots.

Imports only the standard library, msgpack and itsdangerous (a test enforces it).
"""

from livepy.protocol import constants
from livepy.protocol.errors import ProtocolError
from livepy.protocol.frames import (
    Call,
    ErrorFrame,
    Join,
    JoinItem,
    Ping,
    Pong,
    Reply,
    decode_client_frame,
    decode_server_frame,
    encode,
)
from livepy.protocol.snapshot import Snapshot, Snapshotter, b64decode, b64encode

__all__ = [
    "Call",
    "ErrorFrame",
    "Join",
    "JoinItem",
    "Ping",
    "Pong",
    "ProtocolError",
    "Reply",
    "Snapshot",
    "Snapshotter",
    "b64decode",
    "b64encode",
    "constants",
    "decode_client_frame",
    "decode_server_frame",
    "encode",
]
