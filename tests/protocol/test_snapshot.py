import hashlib
import hmac

import msgpack
import pytest
from itsdangerous import Signer

from livepy.protocol import ProtocolError, Snapshot, Snapshotter, b64decode, b64encode, canonical
from livepy.protocol import constants as c


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def wire(snapshot: Snapshot) -> list[object]:
    return snapshot.to_wire()


def test_sign_and_verify() -> None:
    snapshots = Snapshotter("key")
    snapshot = snapshots.verify(wire(snapshots.sign("counter", "abc", {"count": 3})), cid="abc")
    assert (snapshot.name, snapshot.cid, snapshot.state) == ("counter", "abc", {"count": 3})
    assert len(snapshot.mac) == c.MAC_BYTES == 8


@pytest.mark.parametrize("secret", ["key", "k" * 200])  # a key longer than a block is hashed
def test_mac_is_the_documented_hmac_sha256(secret: str) -> None:
    """The MAC is HMAC-SHA256, keyed as itsdangerous derives the key, over the canonical body;
    the packed path, which reuses one encoding of the state, gives the same bytes."""
    snapshots = Snapshotter(secret)
    key = Signer(
        secret, salt="livepy.snapshot", key_derivation="hmac", digest_method=hashlib.sha256
    ).derive_key()
    state = {"b": [1, 2.0], "a": "x"}
    body = msgpack.packb([c.SNAPSHOT_VERSION, "counter", "abc", 7, canonical(state)])
    expected = hmac.digest(key, body, hashlib.sha256)[: c.MAC_BYTES]
    assert snapshots.mac("counter", "abc", 7, state) == expected
    packed = msgpack.packb(canonical(state))
    assert snapshots.mac_packed("counter", "abc", 7, packed) == expected


def test_attribute_round_trip() -> None:
    snapshots = Snapshotter("key")
    snapshot = snapshots.sign("counter", "abcdefgh", {"count": 3})
    text = snapshot.to_attribute()
    assert len(b64decode(text)) == 41  # 31 bytes of structure, 10 of MAC (bin header + 8)
    assert snapshots.verify_attribute(text) == snapshot


def test_state_verifies_in_any_key_order_and_number_form() -> None:
    snapshots = Snapshotter("key")
    state = {"b": 1.0, "a": {"y": [1.5, 2.0], "x": True}}
    original = snapshots.sign("c", "id", state)
    as_a_browser_sends_it = {"a": {"x": True, "y": [1.5, 2]}, "b": 1}
    snapshots.verify(["c", "id", original.issued_at, as_a_browser_sends_it, original.mac])
    assert canonical(state) == {"a": {"x": True, "y": [1.5, 2]}, "b": 1}


@pytest.mark.parametrize(
    "tamper",
    [
        lambda w: [w[0] + "x", *w[1:]],
        lambda w: [w[0], w[1], w[2] + 1, w[3], w[4]],
        lambda w: [*w[:3], {"count": 4}, w[4]],
        lambda w: [*w[:3], {"count": True}, w[4]],
        lambda w: [*w[:3], {"count": 3, "extra": 1}, w[4]],
        lambda w: [*w[:4], bytes([w[4][0] ^ 1]) + w[4][1:]],
        lambda w: [*w[:4], w[4][:7]],
        lambda w: [*w[:4], w[4] + b"\x00"],
    ],
)
def test_any_change_is_refused(tamper: object) -> None:
    snapshots = Snapshotter("key")
    original = wire(snapshots.sign("counter", "abc", {"count": 3}))
    with pytest.raises(ProtocolError) as info:
        snapshots.verify(tamper(original))  # type: ignore[operator]
    assert info.value.code == c.ERR_SNAPSHOT_INVALID


def test_foreign_key_is_refused() -> None:
    data = wire(Snapshotter("other key").sign("counter", "abc", {"count": 3}))
    with pytest.raises(ProtocolError) as info:
        Snapshotter("key").verify(data)
    assert info.value.code == c.ERR_SNAPSHOT_INVALID
    assert "another key" in info.value.message


def test_snapshot_of_another_component_is_refused() -> None:
    snapshots = Snapshotter("key")
    data = wire(snapshots.sign("counter", "abc", {"count": 3}))
    with pytest.raises(ProtocolError) as info:
        snapshots.verify(data, cid="xyz")
    assert info.value.code == c.ERR_SNAPSHOT_INVALID


def test_expired_snapshot_is_refused() -> None:
    clock = Clock()
    snapshots = Snapshotter("key", max_age=60, clock=clock)
    data = wire(snapshots.sign("counter", "abc", {"count": 3}))
    clock.now += 59
    snapshots.verify(data)
    clock.now += 2
    with pytest.raises(ProtocolError) as info:
        snapshots.verify(data)
    assert info.value.code == c.ERR_SNAPSHOT_EXPIRED


@pytest.mark.parametrize(
    "data",
    [None, b"bytes", [], ["c", "id", 1, {}], ["c", "id", "1", {}, b"m" * 8], ["c", 1, 1, {}, b""]],
)
def test_malformed_snapshot_is_refused(data: object) -> None:
    with pytest.raises(ProtocolError) as info:
        Snapshotter("key").verify(data)
    assert info.value.code == c.ERR_SNAPSHOT_INVALID


def test_unhashable_state_is_refused_not_crashing() -> None:
    state = {"x": msgpack.ExtType(1, b"")}
    with pytest.raises(ProtocolError):
        Snapshotter("key").verify(["c", "id", 1, state, b"m" * 8])


def test_bad_attribute_is_refused() -> None:
    with pytest.raises(ProtocolError):
        Snapshotter("key").verify_attribute("a")
    with pytest.raises(ProtocolError):
        Snapshotter("key").verify_attribute(b64encode(b"\xc1"))


def test_base64url_round_trip() -> None:
    for data in (b"", b"\x00", b"\xff\xfe\xfd", bytes(range(256))):
        text = b64encode(data)
        assert "=" not in text and "+" not in text and "/" not in text
        assert b64decode(text) == data
