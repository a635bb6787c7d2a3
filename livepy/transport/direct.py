"""uvicorn's ``websockets-sansio`` protocol, plus a direct send for livepy's own socket.

Through plain ASGI, every frame livepy sends passes through two coroutines (Starlette's
exception wrapper and uvicorn's ``send``), websockets' frame serializer and a socket write of
its own. ``DirectSendProtocol`` offers the livepy endpoint a ``DirectSend`` under the scope
extension ``"livepy.direct_send"``: frames are framed here and queued without awaiting, and
everything queued during one pass of the event loop leaves in one write. A broadcast that pushes
five components' patches to one page costs that page one system call, not five, and a reply
costs no coroutine at all.

Everything else (the handshake, the scope, the app's middleware, receiving, closing) is
uvicorn's, unchanged: an app that never looks at the extension is served exactly as
``websockets-sansio`` serves it. ``livepy serve`` uses it through
``livepy.pusher.lean:PusherWebSocketProtocol``, which hands it every socket that is not a Pusher
one; ``uvicorn --ws livepy.transport.direct:DirectSendProtocol`` uses it alone.

Sends never wait, so the bound is on what waits unsent: a socket whose unsent output passes
``MAX_UNSENT`` bytes, or stays above the transport's high-water mark for ``stall_timeout``
seconds (``LivePy(send_timeout=)``), is reported through ``on_stall``; livepy then closes it
with 4008 (slow consumer) and drops what it had not sent.
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Callable
from typing import Any

# uvicorn >= 0.35 has websockets-sansio; livepy's pyproject asks for it.
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.exceptions import InvalidState

from livepy.transport.common import DIRECT_SEND

__all__ = ["EXTENSION", "MAX_UNSENT", "DirectSend", "DirectSendProtocol", "binary_frame_header"]

EXTENSION = DIRECT_SEND
MAX_UNSENT = 4 << 20  # bytes a socket may hold unsent before it counts as a slow consumer

_BINARY_FIN = 0x82
_SHORT_HEADERS = [bytes((_BINARY_FIN, size)) for size in range(126)]  # most pushes are short


def binary_frame_header(size: int) -> bytes:
    """RFC 6455 header of an unmasked, final binary frame of ``size`` bytes (server to client)."""
    if size < 126:
        return _SHORT_HEADERS[size]
    if size < 1 << 16:
        return struct.pack("!BBH", _BINARY_FIN, 126, size)
    return struct.pack("!BBQ", _BINARY_FIN, 127, size)


class DirectSend:
    """What the endpoint holds: queue frames, flush them, close at once, hear about stalls."""

    __slots__ = ("_protocol",)

    def __init__(self, protocol: DirectSendProtocol) -> None:
        self._protocol = protocol

    def write(self, data: bytes) -> bool:
        """Queue one binary message for this pass's write; False once the socket is closing."""
        return self._protocol.queue_binary(data)

    def flush(self) -> None:
        """Write what is queued now rather than at the end of this pass (a reply's latency)."""
        self._protocol.flush()

    def close(self, code: int, reason: str) -> None:
        """Send a close frame after what is queued, without waiting for the socket to drain."""
        self._protocol.close_now(code, reason)

    def on_stall(self, callback: Callable[[], None], timeout: float) -> None:
        self._protocol.on_stall = callback
        self._protocol.stall_timeout = timeout


class DirectSendProtocol(WebSocketsSansIOProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._queued: list[bytes] = []
        self._flush_soon = False
        self._stall_timer: asyncio.TimerHandle | None = None
        self.on_stall: Callable[[], None] | None = None
        self.stall_timeout = 10.0

    def handle_connect(self, event: Any) -> None:
        super().handle_connect(event)
        scope = getattr(self, "scope", None)  # absent when websockets refused the handshake
        if scope is not None:
            scope["extensions"][EXTENSION] = {"send": DirectSend(self)}

    # -- sending -------------------------------------------------------------------------

    def queue_binary(self, data: bytes) -> bool:
        if self.close_sent or self.disconnected:
            return False
        if self.conn.extensions:  # permessage-deflate: websockets frames and compresses it
            try:
                self.conn.send_binary(data)
            except InvalidState:  # the peer's close frame came first
                return False
            self._queued.extend(self.conn.data_to_send())
        else:
            self._queued.append(binary_frame_header(len(data)))
            self._queued.append(data)
        if not self._flush_soon:
            self._flush_soon = True
            self.loop.call_soon(self.flush)
        return True

    def flush(self) -> None:
        self._flush_soon = False
        if not self._queued:
            return
        output = b"".join(self._queued)
        self._queued.clear()
        if self.close_sent or self.disconnected or self.transport.is_closing():
            return
        self.transport.write(output)
        if self.transport.get_write_buffer_size() > MAX_UNSENT:
            self._stalled()

    def shutdown(self) -> None:
        """uvicorn's own shutdown closes with 1012: what is queued goes out before that."""
        self.flush()
        super().shutdown()

    async def send(self, message: Any) -> None:
        if self._queued:  # what the endpoint queued goes out before an accept or a close
            self.flush()
        await super().send(message)

    def close_now(self, code: int, reason: str) -> None:
        """A close frame behind the queued frames; the TCP connection is dropped if the peer
        does not answer within uvicorn's close timeout (it may never read again)."""
        if self.close_sent or self.disconnected:
            return
        self.flush()
        self.queue.put_nowait({"type": "websocket.disconnect", "code": code, "reason": reason})
        try:
            self.conn.send_close(code, reason)
        except InvalidState:  # already closing: uvicorn finishes that handshake itself
            return
        self.close_sent = True
        if not self.transport.is_closing():
            self.transport.write(b"".join(self.conn.data_to_send()))
        self.close_timer = self.loop.call_later(self.close_timeout, self.transport.abort)

    # -- stalls --------------------------------------------------------------------------

    def pause_writing(self) -> None:
        super().pause_writing()
        if self.on_stall is not None and self._stall_timer is None:
            self._stall_timer = self.loop.call_later(self.stall_timeout, self._stalled)

    def resume_writing(self) -> None:
        super().resume_writing()
        if self._stall_timer is not None:
            self._stall_timer.cancel()
            self._stall_timer = None

    def connection_lost(self, exc: Exception | None) -> None:
        if self._stall_timer is not None:
            self._stall_timer.cancel()
            self._stall_timer = None
        self._queued.clear()
        super().connection_lost(exc)

    def _stalled(self) -> None:
        self._stall_timer = None
        callback, self.on_stall = self.on_stall, None  # once
        if callback is not None and not (self.close_sent or self.disconnected):
            callback()
