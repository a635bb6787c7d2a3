import msgpack
import pytest

from livepy.protocol import (
    Call,
    ErrorFrame,
    Join,
    Joined,
    JoinItem,
    Ping,
    Pong,
    ProtocolError,
    Reply,
    Resync,
    decode_client_frame,
    decode_server_frame,
    encode,
)
from livepy.protocol import constants as c
from livepy.protocol.frames import encode_reply


def pack(body: object) -> bytes:
    return msgpack.packb(body, use_bin_type=True)


def refused(data: bytes, **limits: int) -> ProtocolError:
    with pytest.raises(ProtocolError) as info:
        decode_client_frame(data, **limits)
    return info.value


def test_join_round_trip() -> None:
    frame = Join(
        (JoinItem("a1", ["c", "a1", 1, {}, b"mac"]), JoinItem("b2", ["c", "b2", 2, {"n": 1}, b""]))
    )
    assert decode_client_frame(encode(frame)) == frame


def test_call_round_trip() -> None:
    frame = Call(3, 7, {"title": "hi"}, (("increment", (5,)), ("remove", ("x", None))))
    assert decode_client_frame(encode(frame)) == frame


def test_call_bytes_are_compact() -> None:
    data = encode(Call(1, 1, {}, (("increment", ()),)))
    assert data == pack([2, 1, 1, {}, [["increment", []]]])
    assert len(data) == 18


def test_resync_round_trip() -> None:
    assert decode_client_frame(encode(Resync(4))) == Resync(4)


def test_ping_and_pong() -> None:
    assert decode_client_frame(encode(Ping())) == Ping()
    assert decode_client_frame(encode(Pong())) == Pong()


def test_server_frames_round_trip() -> None:
    reply = Reply(1, 3, [7, 5, 1, "2"], [None, [[["count"], 2]], b"m" * 8])
    assert decode_server_frame(encode(reply)) == reply
    assert len(encode(reply)) == 1 + 1 + 1 + 1 + 6 + (3 + 2 + 6 + 1 + 10)
    with_effects = Reply(1, 3, None, None, {"e": 1})
    assert decode_server_frame(encode(with_effects)) == with_effects
    joined = Joined("a1", 2, "<div></div>", None)
    assert decode_server_frame(encode(joined)) == joined
    error = ErrorFrame(c.ERR_BAD_FRAME, "nope", "a1", 3, None)
    assert decode_server_frame(encode(error)) == error


@pytest.mark.parametrize(
    "reply",
    [
        Reply(1, 3, [7, 5, 1, "2"], [None, [[["count"], 2]], b"m" * 8]),
        Reply(2, 0, "<div>x</div>", None, {"toast": ["hi"]}),
        Reply(3, 9, None, None),
    ],
)
def test_encode_reply_is_encode_of_a_reply(reply: Reply) -> None:
    fast = encode_reply(reply.ref, reply.seq, reply.render, reply.patch, reply.effects)
    assert fast == encode(reply)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\xc1",  # never used in msgpack
        b"\xff\x00garbage",
        pack("a string"),
        pack([]),
        pack(["1", "x"]),
        pack([99]),
        pack([c.FRAME_JOIN]),
        pack([c.FRAME_JOIN, [["cid", b"not a list"]]]),
        pack([c.FRAME_JOIN, [[1, []]]]),
        pack([c.FRAME_JOIN, [["", []]]]),
        pack([c.FRAME_CALL, 1, 1, {}]),
        pack([c.FRAME_CALL, 1, -1, {}, []]),
        pack([c.FRAME_CALL, 1, True, {}, []]),
        pack([c.FRAME_CALL, 1, 1, [], []]),
        pack([c.FRAME_CALL, 1, 1, {}, {}]),
        pack([c.FRAME_CALL, 1, 1, {}, [["m"]]]),
        pack([c.FRAME_CALL, 1, 1, {}, [[1, []]]]),
        pack([c.FRAME_CALL, "cid", 1, {}, []]),
        pack([c.FRAME_CALL, 0, 1, {}, []]),
        pack([c.FRAME_CALL, 2**40, 1, {}, []]),
        pack([c.FRAME_RESYNC]),
        pack([c.FRAME_RESYNC, "x"]),
        pack([c.FRAME_PING, 1]),
        msgpack.packb([1, msgpack.ExtType(5, b"x")]),
        msgpack.packb({1: 2}),
        b"\x92\x01\xa3\xff\xfe\xfd",  # invalid utf-8 string
    ],
)
def test_malformed_frames_are_bad_frame(data: bytes) -> None:
    assert refused(data).code == c.ERR_BAD_FRAME


def test_text_is_refused() -> None:
    assert refused("text").code == c.ERR_BAD_FRAME  # type: ignore[arg-type]


def test_frame_size_limit() -> None:
    data = encode(Call(1, 1, {"t": "x" * 200}, ()))
    error = refused(data, max_bytes=100)
    assert error.code == c.ERR_FRAME_TOO_LARGE
    assert "100" in error.message


def test_calls_per_frame_limit() -> None:
    data = encode(Call(1, 5, {}, tuple(("m", ()) for _ in range(21))))
    error = refused(data)
    assert error.code == c.ERR_TOO_MANY_CALLS
    assert error.seq == 5
    decode_client_frame(encode(Call(1, 1, {}, tuple(("m", ()) for _ in range(20)))))


def test_components_per_join_limit() -> None:
    data = encode(Join(tuple(JoinItem(f"c{i}", []) for i in range(3))))
    assert refused(data, max_components=2).code == c.ERR_TOO_MANY_COMPONENTS


def test_deep_nesting_is_refused_not_crashing() -> None:
    data = b"\x91" * 100_000 + b"\xc0"
    assert refused(data, max_bytes=200_000).code == c.ERR_BAD_FRAME


@pytest.mark.parametrize(
    "ref, seq", [(0, 0), (127, 127), (128, 3), (5, 255), (70_000, 2**40), (-1, 3), (3, -200)]
)
@pytest.mark.parametrize("edits", [0, 14, 15, 16, 70_000])
def test_encode_push_splices_the_parts_of_encode_reply(ref: int, seq: int, edits: int) -> None:
    """A push's parts, encoded apart (arrays of every header size), make ``encode_reply``'s
    bytes."""
    from livepy.protocol.frames import encode_push
    from livepy.protocol.packing import array_header, pack_items

    items: list[object] = [n % 300 for n in range(edits)]
    render = [65_000, *items]
    patch = [None, [[["count"], 2]], b"m" * 8]
    parts = (array_header(len(render)), pack(65_000), pack_items(items))
    assert encode_push(ref, seq, parts, (pack(patch),)) == encode_reply(ref, seq, render, patch)
    assert encode_push(ref, seq, (pack(None),), (pack(None),)) == encode_reply(ref, seq, None, None)


def test_pack_uint16_is_pack_for_every_checksum() -> None:
    from livepy.protocol.packing import pack_uint16

    assert all(pack_uint16(value) == pack(value) for value in range(65536))
