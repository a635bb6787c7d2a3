"""Signed component snapshots: the state a client holds so that any process can rebuild it.

A snapshot is ``[name, cid, issued_at, state, mac]``. The MAC is the first ``MAC_BYTES``
bytes of an HMAC-SHA256, keyed by a key that itsdangerous derives from the secret key,
over the *canonical* encoding ``msgpack([SNAPSHOT_VERSION, name, cid, issued_at,
canonical(state)])``. Canonical means map keys sorted at every level and integral floats
(within the 64-bit integer range) written as ints: a browser holds the state as JS values
and sends it back in its own key order and number forms, and it must still verify. Because
of that, replies can carry a small patch to the state plus a fresh MAC instead of a whole
new snapshot.

Why 8 bytes of MAC: forging one means guessing 64 bits online, one round trip per guess,
against a server that logs every refusal; it keeps the per-update overhead small.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgpack
from itsdangerous import Signer

from livepy.protocol import constants as c
from livepy.protocol.errors import ProtocolError
from livepy.protocol.packing import pack

__all__ = ["Snapshot", "Snapshotter", "b64decode", "b64encode", "canonical"]

# The start of every MAC body: a 5-item array header, then the version (see Snapshotter.mac).
_BODY_HEAD: bytes = b"\x95" + msgpack.packb(c.SNAPSHOT_VERSION)
_BLOCK = 64  # SHA-256's block size, in bytes


@dataclass(frozen=True, slots=True)
class Snapshot:
    name: str
    cid: str
    issued_at: int
    state: dict[str, Any]
    mac: bytes

    def to_wire(self) -> list[Any]:
        return [self.name, self.cid, self.issued_at, self.state, self.mac]

    def to_attribute(self) -> str:
        """The ``lp-snapshot`` attribute value: unpadded base64url of the msgpack array."""
        return b64encode(msgpack.packb(self.to_wire(), use_bin_type=True))


def b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64decode(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise ProtocolError(c.ERR_SNAPSHOT_INVALID, "snapshot is not valid base64url") from None


def canonical(value: Any) -> Any:
    """The form the MAC covers: sorted map keys, integral floats as ints."""
    if isinstance(value, dict):
        return {key: canonical(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [canonical(item) for item in value]
    if isinstance(value, float) and value.is_integer() and -(2**63) <= value < 2**64:
        return int(value)  # a browser holds 2.0 as 2 and sends it back as an int
    return value


class Snapshotter:
    """Signs and verifies snapshots with one secret key.

    ``max_age`` (seconds) bounds how old a snapshot may be; ``clock`` is injectable so
    that expiry is testable without waiting.
    """

    def __init__(
        self,
        secret_key: str | bytes,
        *,
        salt: str = "livepy.snapshot",
        max_age: int = 7 * 24 * 3600,
        clock: Callable[[], float] = time.time,
    ) -> None:
        signer = Signer(secret_key, salt=salt, key_derivation="hmac", digest_method=hashlib.sha256)
        key = signer.derive_key()
        # HMAC (RFC 2104) from two SHA-256 states keyed once: a copy of each per MAC skips
        # hashing the key's pads again, and the hmac module's wrapper (pushes sign per component)
        block = key if len(key) <= _BLOCK else hashlib.sha256(key).digest()
        block = block.ljust(_BLOCK, b"\0")
        self._inner = hashlib.sha256(bytes(byte ^ 0x36 for byte in block))
        self._outer = hashlib.sha256(bytes(byte ^ 0x5C for byte in block))
        self.max_age = max_age
        self.clock = clock

    def now(self) -> int:
        return int(self.clock())

    def mac(self, name: str, cid: str, issued_at: int, state: dict[str, Any]) -> bytes:
        return self.mac_headed(
            b"", pack([c.SNAPSHOT_VERSION, name, cid, issued_at, canonical(state)])
        )

    def mac_packed(self, name: str, cid: str, issued_at: int, packed_state: bytes) -> bytes:
        """``mac(name, cid, issued_at, state)`` where ``packed_state`` is
        ``msgpack(canonical(state))``, encoded once for every component that holds that state."""
        return self.mac_headed(self.mac_head(name, cid, issued_at), packed_state)

    def mac_head(self, name: str, cid: str, issued_at: int) -> bytes:
        """The start of the MAC's body for one component: kept by a component between pushes."""
        return _BODY_HEAD + pack([name, cid, issued_at])[1:]  # (no array header of its own)

    def mac_headed(self, head: bytes, packed_state: bytes) -> bytes:
        """``mac_packed`` from ``mac_head(name, cid, issued_at)``: the MAC of the body
        ``head + packed_state``."""
        inner = self._inner.copy()
        inner.update(head)
        inner.update(packed_state)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()[: c.MAC_BYTES]

    def sign(
        self, name: str, cid: str, state: dict[str, Any], *, issued_at: int | None = None
    ) -> Snapshot:
        issued_at = self.now() if issued_at is None else issued_at
        return Snapshot(name, cid, issued_at, state, self.mac(name, cid, issued_at, state))

    def verify(self, wire: Any, *, cid: str | None = None) -> Snapshot:
        """Check a snapshot as received (the wire array); return it if genuine and fresh."""
        if isinstance(wire, Snapshot):
            wire = wire.to_wire()
        if not (
            isinstance(wire, list)
            and len(wire) == 5
            and isinstance(wire[0], str)
            and isinstance(wire[1], str)
            and type(wire[2]) is int
            and isinstance(wire[3], dict)
            and isinstance(wire[4], bytes)
        ):
            raise ProtocolError(
                c.ERR_SNAPSHOT_INVALID,
                "a snapshot is [name, cid, issued_at, state, mac]",
                cid=cid,
            )
        name, snap_cid, issued_at, state, mac = wire
        try:
            expected = self.mac(name, snap_cid, issued_at, state)
        except (TypeError, ValueError, OverflowError):
            expected = b""
        if len(mac) != c.MAC_BYTES or not hmac.compare_digest(mac, expected):
            raise ProtocolError(
                c.ERR_SNAPSHOT_INVALID,
                "snapshot signature does not match: it was tampered with or signed by another key",
                cid=cid,
            )
        if cid is not None and snap_cid != cid:
            raise ProtocolError(
                c.ERR_SNAPSHOT_INVALID,
                f"snapshot belongs to component {snap_cid!r}, not {cid!r}",
                cid=cid,
            )
        age = self.clock() - issued_at
        if age > self.max_age:
            raise ProtocolError(
                c.ERR_SNAPSHOT_EXPIRED,
                f"snapshot is {int(age)} s old; the limit is {self.max_age} s (reload the page)",
                cid=cid,
            )
        return Snapshot(name, snap_cid, issued_at, state, mac)

    def verify_attribute(self, text: str) -> Snapshot:
        """Verify an ``lp-snapshot`` attribute value (used by test clients and tools)."""
        try:
            wire = msgpack.unpackb(b64decode(text), raw=False)
        except ProtocolError:
            raise
        except Exception:
            raise ProtocolError(c.ERR_SNAPSHOT_INVALID, "snapshot is not valid msgpack") from None
        return self.verify(wire)
