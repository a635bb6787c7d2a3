"""A live session: the component instances one connection holds, driven by decoded frames.

Transport-agnostic: it takes frame bytes and returns frame bytes. It never lets one
component's failure reach another component or the connection: every refusal and
every exception becomes an error frame scoped to the component and sequence number.
"""

from __future__ import annotations

import logging
import traceback
from typing import TYPE_CHECKING, Any

from livepy import registry
from livepy.component import Component, convert_arguments
from livepy.convert import ConversionError
from livepy.exceptions import UnknownComponentError
from livepy.protocol import constants as c
from livepy.protocol.errors import ProtocolError
from livepy.protocol.frames import (
    Call,
    ErrorFrame,
    Join,
    Ping,
    Pong,
    Reply,
    decode_client_frame,
    encode,
)

if TYPE_CHECKING:
    from livepy.app import LivePy

__all__ = ["LiveSession"]

logger = logging.getLogger("livepy.session")

MAGIC_REFRESH = "$refresh"


class LiveSession:
    """Component instances of one connection, keyed by component id."""

    def __init__(self, live: LivePy, *, client: str = "") -> None:
        self.live = live
        self.client = client
        self.components: dict[str, Component] = {}
        self._last_html: dict[str, str] = {}

    async def receive(self, data: bytes) -> list[bytes]:
        """Handle one client frame; return the frames to send back, in order."""
        limits = self.live.limits
        try:
            frame = decode_client_frame(
                data,
                max_bytes=limits.max_frame_bytes,
                max_calls=limits.max_calls_per_frame,
                max_components=limits.max_components_per_connection,
            )
        except ProtocolError as exc:
            return [self._error(exc)]
        if isinstance(frame, Join):
            return self._join(frame)
        if isinstance(frame, Call):
            return [await self._call(frame)]
        if isinstance(frame, Ping):
            return [encode(Pong())]
        return []  # Pong: the transport's heartbeat already saw traffic

    def _error(self, exc: ProtocolError, detail: str | None = None) -> bytes:
        logger.info("refused %s: %s (cid=%s seq=%s)", exc.code, exc.message, exc.cid, exc.seq)
        return encode(ErrorFrame(exc.code, exc.message, exc.cid, exc.seq, detail))

    def _join(self, frame: Join) -> list[bytes]:
        out = []
        for item in frame.components:
            try:
                out.append(self._join_one(item.cid, item.snapshot))
            except ProtocolError as exc:
                out.append(self._error(exc))
        return out

    def _join_one(self, cid: str, snapshot_bytes: bytes) -> bytes:
        limit = self.live.limits.max_components_per_connection
        if cid not in self.components and len(self.components) >= limit:
            raise ProtocolError(
                c.ERR_TOO_MANY_COMPONENTS,
                f"this connection already holds {limit} components (the limit)",
                cid=cid,
            )
        snapshot = self.live.snapshots.verify(snapshot_bytes, cid=cid)
        try:
            cls = registry.resolve(snapshot.name)
        except UnknownComponentError as exc:
            raise ProtocolError(c.ERR_UNKNOWN_COMPONENT, str(exc), cid=cid) from None
        instance = cls()
        instance.id = cid
        try:
            instance.load_state(snapshot.state)
        except ConversionError as exc:  # a signed snapshot from an older schema
            raise ProtocolError(
                c.ERR_SNAPSHOT_INVALID, f"snapshot no longer fits {cls.name}: {exc}", cid=cid
            ) from None
        self.components[cid] = instance
        return encode(Reply(cid, 0, None, snapshot_bytes, None))

    async def _call(self, frame: Call) -> bytes:
        cid, seq = frame.cid, frame.seq
        instance = self.components.get(cid)
        if instance is None:
            return self._error(
                ProtocolError(
                    c.ERR_NOT_JOINED,
                    f"component {cid!r} has not joined this connection",
                    cid=cid,
                    seq=seq,
                )
            )
        before = instance.dump_state()
        try:
            html, snapshot = await self._apply(instance, frame)
        except ProtocolError as exc:
            instance.load_state(before)
            exc.cid, exc.seq = cid, seq
            return self._error(exc)
        except Exception as exc:
            instance.load_state(before)
            logger.exception("component %s (%s) failed on seq %s", type(instance).name, cid, seq)
            detail = traceback.format_exc() if self.live.debug else None
            message = f"{type(instance).name} failed: {type(exc).__name__}"
            if self.live.debug:
                message += f": {exc}"
            return self._error(
                ProtocolError(c.ERR_COMPONENT_ERROR, message, cid=cid, seq=seq), detail
            )
        if self._last_html.get(cid) == html:
            return encode(Reply(cid, seq, None, snapshot, None))
        self._last_html[cid] = html
        return encode(Reply(cid, seq, html, snapshot, None))

    async def _apply(self, instance: Component, frame: Call) -> tuple[str, bytes]:
        for name, value in frame.updates.items():
            try:
                instance.set_field(name, value)
            except ConversionError as exc:
                raise ProtocolError(c.ERR_BAD_UPDATE, str(exc)) from None
        for method, args in frame.calls:
            if method == MAGIC_REFRESH and not args:
                continue
            spec = type(instance).__actions__.get(method)
            if spec is None:
                raise ProtocolError(c.ERR_UNKNOWN_ACTION, _unknown_action(instance, method))
            try:
                converted = convert_arguments(spec, args)
            except ConversionError as exc:
                raise ProtocolError(c.ERR_BAD_ARGUMENT, str(exc)) from None
            result: Any = getattr(instance, method)(*converted)
            if spec.is_async:
                await result
        return self.live.renderer.render(instance, with_snapshot=False)


def _unknown_action(instance: Component, method: str) -> str:
    name = type(instance).name
    if callable(getattr(instance, method, None)):
        return f"{name}.{method} is not an @action and cannot be called from the browser"
    return f"{name} has no action {method!r}"
