import pytest

from livepy.protocol import ProtocolError, Snapshotter, b64decode, b64encode
from livepy.protocol import constants as c


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_sign_and_verify() -> None:
    snapshots = Snapshotter("key")
    data = snapshots.sign("counter", "abc", {"count": 3})
    snapshot = snapshots.verify(data, cid="abc")
    assert (snapshot.name, snapshot.cid, snapshot.state) == ("counter", "abc", {"count": 3})


def test_snapshot_is_compact() -> None:
    data = Snapshotter("key").sign("counter", "abcdefgh", {"count": 3})
    assert len(data) == 48  # 32 bytes of body, 16 of MAC
    assert data[-c.MAC_BYTES :] != b"\x00" * c.MAC_BYTES


@pytest.mark.parametrize("index", [0, 3, 10, -1, -16, -17])
def test_any_flipped_byte_is_refused(index: int) -> None:
    snapshots = Snapshotter("key")
    data = bytearray(snapshots.sign("counter", "abc", {"count": 3}))
    data[index] ^= 0x01
    with pytest.raises(ProtocolError) as info:
        snapshots.verify(bytes(data))
    assert info.value.code == c.ERR_SNAPSHOT_INVALID


def test_foreign_key_is_refused() -> None:
    data = Snapshotter("other key").sign("counter", "abc", {"count": 3})
    with pytest.raises(ProtocolError) as info:
        Snapshotter("key").verify(data)
    assert info.value.code == c.ERR_SNAPSHOT_INVALID
    assert "another key" in info.value.message


def test_snapshot_of_another_component_is_refused() -> None:
    snapshots = Snapshotter("key")
    data = snapshots.sign("counter", "abc", {"count": 3})
    with pytest.raises(ProtocolError) as info:
        snapshots.verify(data, cid="xyz")
    assert info.value.code == c.ERR_SNAPSHOT_INVALID


def test_expired_snapshot_is_refused() -> None:
    clock = Clock()
    snapshots = Snapshotter("key", max_age=60, clock=clock)
    data = snapshots.sign("counter", "abc", {"count": 3})
    clock.now += 59
    snapshots.verify(data)
    clock.now += 2
    with pytest.raises(ProtocolError) as info:
        snapshots.verify(data)
    assert info.value.code == c.ERR_SNAPSHOT_EXPIRED


@pytest.mark.parametrize("data", [b"", b"short", b"x" * 16])
def test_truncated_snapshot_is_refused(data: bytes) -> None:
    with pytest.raises(ProtocolError) as info:
        Snapshotter("key").verify(data)
    assert info.value.code == c.ERR_SNAPSHOT_INVALID


def test_base64url_round_trip() -> None:
    for data in (b"", b"\x00", b"\xff\xfe\xfd", bytes(range(256))):
        text = b64encode(data)
        assert "=" not in text and "+" not in text and "/" not in text
        assert b64decode(text) == data


def test_bad_base64_is_refused() -> None:
    with pytest.raises(ProtocolError):
        b64decode("a")
