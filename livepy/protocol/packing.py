"""Reused msgpack packers, one pair per thread, for the encodings made per pushed component.

``msgpack.packb`` builds a ``Packer``, and its buffer, on every call; a broadcast to thousands
of components encodes several times per component (its state, its frame, its MAC's head), and
that setup (a 256 KiB buffer) was a fifth of each encoding. A packer is not thread-safe (pages
may render and sign in a thread pool), so each thread gets its own, with a small buffer; one
that grew for a large value is replaced, so a thread keeps at most ``_KEEP`` bytes of buffer.
A packer that fails to encode resets its buffer, so an error leaves nothing behind.

``array_header`` and ``pack_items`` encode an array's parts apart, so that a frame can splice
in items encoded once for many frames (``frames.encode_push``).
"""

from __future__ import annotations

import struct
import threading
from typing import Any

import msgpack

__all__ = ["array_header", "pack", "pack_items", "pack_strict", "pack_uint16"]


_BUFFER = 4096
_KEEP = 65536


def _plain() -> msgpack.Packer:
    return msgpack.Packer(use_bin_type=True, buf_size=_BUFFER)


def _strict() -> msgpack.Packer:
    return msgpack.Packer(use_bin_type=True, strict_types=True, buf_size=_BUFFER)


class _Packers(threading.local):
    def __init__(self) -> None:
        self.plain = _plain()
        self.strict = _strict()


_packers = _Packers()


def pack(value: Any) -> bytes:
    """``msgpack.packb(value, use_bin_type=True)``."""
    packed: bytes = _packers.plain.pack(value)
    if len(packed) > _KEEP:
        _packers.plain = _plain()
    return packed


def pack_strict(value: Any) -> bytes:
    """``msgpack.packb(value, use_bin_type=True, strict_types=True)``: a subclass of a plain
    type (an enum, a named tuple) is refused with TypeError instead of encoded as its base."""
    packed: bytes = _packers.strict.pack(value)
    if len(packed) > _KEEP:
        _packers.strict = _strict()
    return packed


def array_header(length: int) -> bytes:
    """The msgpack header of an array of ``length`` items (fixarray, array 16 or array 32)."""
    if length < 16:
        return _FIXARRAYS[length]
    if length < 0x10000:
        return b"\xdc" + length.to_bytes(2, "big")
    return b"\xdd" + length.to_bytes(4, "big")


def pack_items(items: list[Any]) -> bytes:
    """The encodings of ``items``, one after the other, without the array's header: what
    follows ``array_header(len(items))`` in ``pack(items)``."""
    return pack(items)[len(array_header(len(items))) :]


def pack_uint16(value: int) -> bytes:
    """``pack(value)`` for ``0 <= value < 65536`` (a render diff's checksum, once per pushed
    component), without a packer call."""
    if value < 0x80:
        return _FIXINTS[value]
    if value < 0x100:
        return _UINT8[value]
    return _UINT16(0xCD, value)


_FIXARRAYS = [bytes((0x90 | length,)) for length in range(16)]
_FIXINTS = [bytes((value,)) for value in range(0x80)]
_UINT8 = [bytes((0xCC, value)) for value in range(0x100)]
_UINT16 = struct.Struct(">BH").pack
