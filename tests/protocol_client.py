"""A Python client that speaks the livepy protocol like the browser runtime does.

It keeps, per component, the html and snapshot the browser would hold, applying render
diffs and snapshot patches, so tests can assert on exactly what a browser would see.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection

from livepy.protocol import (
    Call,
    ErrorFrame,
    Join,
    Joined,
    JoinItem,
    Reply,
    Snapshot,
    Snapshotter,
    apply_diff,
    apply_ops,
    decode_server_frame,
    encode,
)
from livepy.protocol.snapshot import b64decode

SNAPSHOT_ATTR = re.compile(r'lp-id="([^"]+)" lp-snapshot="([^"]+)"')


@dataclass
class Held:
    """What a browser holds for one component."""

    cid: str
    snapshot: list[Any]
    ref: int = 0
    html: str = ""
    seq: int = 0
    renders: list[Any] = field(default_factory=list)

    @property
    def state(self) -> dict[str, Any]:
        state: dict[str, Any] = self.snapshot[3]
        return state


def snapshots_in(html: str) -> dict[str, list[Any]]:
    """cid -> snapshot wire array, for every component root in a page."""
    import msgpack

    return {
        cid: msgpack.unpackb(b64decode(text), raw=False)
        for cid, text in SNAPSHOT_ATTR.findall(html)
    }


class ProtocolClient:
    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.held: dict[str, Held] = {}  # by component name
        self.by_ref: dict[int, Held] = {}

    async def load(self, url: str) -> str:
        async with httpx.AsyncClient() as http:
            html = (await http.get(url)).text
        for cid, wire in snapshots_in(html).items():
            self.held[wire[0]] = Held(cid, wire)
        return html

    async def recv(self) -> Any:
        frame = decode_server_frame(await self.ws.recv())  # type: ignore[arg-type]
        if isinstance(frame, Joined):
            held = next(h for h in self.held.values() if h.cid == frame.cid)
            held.ref, held.html, held.seq = frame.ref, frame.html, 0
            self.by_ref[frame.ref] = held
            self._patch(held, frame.patch)
        elif isinstance(frame, Reply):
            held = self.by_ref[frame.ref]
            held.renders.append(frame.render)
            if isinstance(frame.render, str):
                held.html = frame.render
            elif isinstance(frame.render, list):
                held.html = apply_diff(held.html, frame.render)
            self._patch(held, frame.patch)
        return frame

    @staticmethod
    def _patch(held: Held, patch: list[Any] | None) -> None:
        if patch is not None:
            issued_at, ops, mac = patch
            apply_ops(held.snapshot[3], ops)
            if issued_at is not None:
                held.snapshot[2] = issued_at
            held.snapshot[4] = mac

    async def send(self, data: bytes | str) -> Any:
        await self.ws.send(data)
        return await self.recv()

    async def join(self, *names: str) -> list[Any]:
        items = tuple(JoinItem(self.held[n].cid, self.held[n].snapshot) for n in names)
        await self.ws.send(encode(Join(items)))
        return [await self.recv() for _ in items]

    async def call(self, name: str, *calls: tuple[str, tuple[Any, ...]], **updates: Any) -> Any:
        held = self.held[name]
        held.seq += 1
        return await self.send(encode(Call(held.ref, held.seq, updates, calls)))

    def verify(self, name: str, snapshots: Snapshotter) -> Snapshot:
        """The held snapshot must still verify: patches kept it exactly in step."""
        return snapshots.verify(self.held[name].snapshot)


def is_error(frame: Any, code: str) -> bool:
    return isinstance(frame, ErrorFrame) and frame.code == code
