"""Signed component snapshots: compact binary, verified before any state is trusted.

Layout: ``msgpack([SNAPSHOT_VERSION, name, cid, issued_at, state]) + MAC``, where the
MAC is the first ``MAC_BYTES`` bytes of an HMAC-SHA256 over the msgpack body, keyed by
a key that itsdangerous derives from the secret key and a salt. 128 bits of MAC keep
forgery out of reach while costing 16 bytes instead of the 43 of a base64 SHA-256.
In HTML the snapshot travels as unpadded base64url; on the socket as raw bytes.
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

__all__ = ["Snapshot", "Snapshotter", "b64decode", "b64encode"]


@dataclass(frozen=True, slots=True)
class Snapshot:
    name: str
    cid: str
    issued_at: int
    state: dict[str, Any]


def b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64decode(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise ProtocolError(c.ERR_SNAPSHOT_INVALID, "snapshot is not valid base64url") from None


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
        self._key = signer.derive_key()
        self.max_age = max_age
        self.clock = clock

    def _mac(self, body: bytes) -> bytes:
        return hmac.digest(self._key, body, "sha256")[: c.MAC_BYTES]

    def sign(self, name: str, cid: str, state: dict[str, Any]) -> bytes:
        body: bytes = msgpack.packb(
            [c.SNAPSHOT_VERSION, name, cid, int(self.clock()), state], use_bin_type=True
        )
        return body + self._mac(body)

    def verify(self, data: bytes, *, cid: str | None = None) -> Snapshot:
        """Return the snapshot if its MAC, version, age and (optionally) id check out."""
        if len(data) <= c.MAC_BYTES:
            raise ProtocolError(c.ERR_SNAPSHOT_INVALID, "snapshot is too short", cid=cid)
        body, mac = data[: -c.MAC_BYTES], data[-c.MAC_BYTES :]
        if not hmac.compare_digest(mac, self._mac(body)):
            raise ProtocolError(
                c.ERR_SNAPSHOT_INVALID,
                "snapshot signature does not match: it was tampered with or signed by another key",
                cid=cid,
            )
        try:
            version, name, snap_cid, issued_at, state = msgpack.unpackb(body, raw=False)
        except Exception:  # a valid MAC over junk means our own bug or an old format
            raise ProtocolError(
                c.ERR_SNAPSHOT_INVALID, "snapshot body is unreadable", cid=cid
            ) from None
        if version != c.SNAPSHOT_VERSION:
            raise ProtocolError(
                c.ERR_SNAPSHOT_INVALID, f"snapshot version {version} is not supported", cid=cid
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
        return Snapshot(name, snap_cid, issued_at, state)
