"""The WebSocket endpoint: a thin pump between a socket and a LiveSession."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from starlette.websockets import WebSocket, WebSocketDisconnect

from livepy.protocol import constants as c
from livepy.protocol.frames import ErrorFrame, encode
from livepy.session import LiveSession
from livepy.transport.origin import origin_allowed

if TYPE_CHECKING:
    from livepy.app import LivePy

__all__ = ["websocket_endpoint"]

logger = logging.getLogger("livepy.transport")


async def websocket_endpoint(live: LivePy, websocket: WebSocket) -> None:
    origin = websocket.headers.get("origin")
    client = f"{websocket.client.host}:{websocket.client.port}" if websocket.client else "?"
    await websocket.accept()
    if not origin_allowed(origin, websocket.headers.get("host"), live.allowed_origins):
        logger.warning("refused socket from %s: origin %s is not allowed", client, origin)
        await websocket.close(c.WS_CLOSE_ORIGIN_REFUSED, "origin not allowed")
        return
    session = LiveSession(live, client=client)
    live.sessions.add(session)
    logger.info("connect %s", client)
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            data = message.get("bytes")
            if data is None:
                frame = ErrorFrame(c.ERR_BAD_FRAME, "frames must be binary msgpack, not text")
                await websocket.send_bytes(encode(frame))
                continue
            for reply in await session.receive(data):
                await websocket.send_bytes(reply)
    except WebSocketDisconnect:
        pass
    finally:
        live.sessions.discard(session)
        logger.info("disconnect %s", client)
