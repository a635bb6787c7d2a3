"""livepy's DirectSendProtocol: frames it writes itself are valid WebSocket frames, several pushes
to one page leave in one write, and a compressed connection still gets readable frames."""

from __future__ import annotations

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader

from livepy import Component, LivePy, on
from livepy.protocol import Join, JoinItem, Reply, decode_server_frame, encode
from livepy.protocol.frames import ErrorFrame, encode_reply
from livepy.transport.common import error_code, needs_accounting
from livepy.transport.direct import DirectSendProtocol, binary_frame_header
from tests.conftest import ServeFactory, page_app
from tests.protocol_client import snapshots_in


@pytest.mark.parametrize("size", [0, 1, 125, 126, 65535, 65536, 70000])
def test_the_header_makes_a_frame_websockets_parses(size: int) -> None:
    payload = bytes(i % 251 for i in range(size))
    reader = StreamReader()
    reader.feed_data(binary_frame_header(size) + payload)
    parser = Frame.parse(reader.read_exact, mask=False)
    try:
        next(parser)
    except StopIteration as done:
        frame = done.value
    else:
        raise AssertionError("the frame did not parse from its own bytes")
    assert frame.opcode is Opcode.BINARY and frame.fin and bytes(frame.data) == payload


class DirectTile(Component):
    template_source = "<p>{{ n }}</p>"
    n: int = 0

    @on("tiles", "Bump")
    def bump(self, data: dict[str, int]) -> None:
        self.n = data["n"]


def five_tiles() -> tuple[LivePy, object]:
    live = LivePy(templates=[], secret_key="k")
    return live, page_app(live, *["direct_tile"] * 5)


async def test_five_pushes_to_one_page_leave_in_one_write(
    serve: ServeFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    writes: list[int] = []
    flush = DirectSendProtocol.flush

    def counting_flush(self: DirectSendProtocol) -> None:
        if self._queued:
            writes.append(len(self._queued) // 2)
        flush(self)

    monkeypatch.setattr(DirectSendProtocol, "flush", counting_flush)
    live, app = five_tiles()
    server = await serve(app)
    async with httpx.AsyncClient() as http:
        snapshots = snapshots_in((await http.get(server.url + "/")).text)
    assert len(snapshots) == 5
    async with connect(server.ws_url + "/livepy/ws", compression=None) as ws:
        await ws.send(encode(Join(tuple(JoinItem(cid, w) for cid, w in snapshots.items()))))
        for _ in range(5):
            await ws.recv()  # JOINED
        writes.clear()
        await live.broadcast("tiles", "Bump", {"n": 7})
        replies = [decode_server_frame(await ws.recv()) for _ in range(5)]
    assert all(isinstance(r, Reply) for r in replies)
    assert sorted(r.ref for r in replies) == sorted({r.ref for r in replies})
    assert writes == [5]  # five REPLY frames, one write


async def test_a_compressed_connection_gets_frames_websockets_framed(serve: ServeFactory) -> None:
    live, app = five_tiles()
    server = await serve(app)
    async with httpx.AsyncClient() as http:
        snapshots = snapshots_in((await http.get(server.url + "/")).text)
    async with connect(server.ws_url + "/livepy/ws", compression="deflate") as ws:
        assert ws.protocol.extensions  # permessage-deflate was negotiated
        await ws.send(encode(Join(tuple(JoinItem(cid, w) for cid, w in snapshots.items()))))
        for _ in range(5):
            await ws.recv()
        await live.broadcast("tiles", "Bump", {"n": 9})
        replies = [decode_server_frame(await ws.recv()) for _ in range(5)]
    assert all(isinstance(r, Reply) and r.render is not None for r in replies)


def test_a_frame_is_accounted_when_metrics_are_on_or_it_is_an_error() -> None:
    """The direct send skips the accounting call per pushed frame only when it would do
    nothing: metrics off and not an ERROR frame (those are always logged and counted)."""
    off = LivePy(templates=[], secret_key="k")
    on_ = LivePy(templates=[], secret_key="k", metrics=True, metrics_auth=lambda request: True)
    reply = encode_reply(1, 0, None, None)
    error = encode(ErrorFrame("E_SOMETHING", "it failed", "cid", None, None))
    assert error_code(reply) is None and error_code(error) == ("E_SOMETHING", "cid")
    assert not needs_accounting(off, reply) and needs_accounting(off, error)
    assert needs_accounting(on_, reply) and needs_accounting(on_, error)
