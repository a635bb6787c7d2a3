"""A live session: the component instances one connection holds, driven by decoded frames.

Transport-agnostic: it takes frame bytes and returns frame bytes. For each joined
component it remembers the html and state the client holds, so that replies carry only
what changed: a render diff and a snapshot patch. It never lets one component's failure
reach another component or the connection: every refusal and every exception becomes an
error frame scoped to the component and sequence number.
"""

from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass
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
    Joined,
    Ping,
    Pong,
    Reply,
    Resync,
    decode_client_frame,
    encode,
)
from livepy.protocol.htmldiff import diff_html
from livepy.protocol.statepatch import diff_state

if TYPE_CHECKING:
    from livepy.app import LivePy

__all__ = ["LiveSession"]

logger = logging.getLogger("livepy.session")

MAGIC_REFRESH = "$refresh"
# A snapshot's issued_at is refreshed once it is this old, so active pages never expire.
REISSUE_AFTER = 3600


@dataclass
class Live:
    """One joined component and what the client is known to hold for it."""

    ref: int
    instance: Component
    html: str
    state: dict[str, Any]
    issued_at: int
    seq: int = 0


class LiveSession:
    """Component instances of one connection, keyed by their ref on this connection."""

    def __init__(self, live: LivePy, *, client: str = "") -> None:
        self.live = live
        self.client = client
        self.components: dict[int, Live] = {}
        self._refs_by_cid: dict[str, int] = {}
        self._next_ref = 1

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
        if isinstance(frame, Resync):
            return [self._resync(frame)]
        if isinstance(frame, Ping):
            return [encode(Pong())]
        return []  # Pong: the transport's heartbeat already saw traffic

    def _error(self, exc: ProtocolError, detail: str | None = None) -> bytes:
        logger.info("refused %s: %s (cid=%s seq=%s)", exc.code, exc.message, exc.cid, exc.seq)
        return encode(ErrorFrame(exc.code, exc.message, exc.cid, exc.seq, detail))

    # -- join ------------------------------------------------------------------------

    def _join(self, frame: Join) -> list[bytes]:
        out = []
        for item in frame.components:
            try:
                out.append(self._join_one(item.cid, item.snapshot))
            except ProtocolError as exc:
                out.append(self._error(exc))
        return out

    def _join_one(self, cid: str, wire: list[Any]) -> bytes:
        limit = self.live.limits.max_components_per_connection
        if cid not in self._refs_by_cid and len(self.components) >= limit:
            raise ProtocolError(
                c.ERR_TOO_MANY_COMPONENTS,
                f"this connection already holds {limit} components (the limit)",
                cid=cid,
            )
        snapshot = self.live.snapshots.verify(wire, cid=cid)
        try:
            cls = registry.resolve(snapshot.name)
        except UnknownComponentError as exc:
            raise ProtocolError(c.ERR_UNKNOWN_COMPONENT, str(exc), cid=cid) from None
        instance = cls()
        instance.id = cid
        try:
            instance.load_state(snapshot.state)
            html = self.live.renderer.render_html(instance)
        except ConversionError as exc:  # a genuine snapshot from an older schema
            raise ProtocolError(
                c.ERR_SNAPSHOT_INVALID, f"snapshot no longer fits {cls.name}: {exc}", cid=cid
            ) from None
        except Exception as exc:
            logger.exception("component %s (%s) failed to render on join", cls.name, cid)
            raise ProtocolError(
                c.ERR_COMPONENT_ERROR, f"{cls.name} failed: {type(exc).__name__}", cid=cid
            ) from None
        old_ref = self._refs_by_cid.pop(cid, None)
        if old_ref is not None:  # a rejoin of the same component replaces it
            self.components.pop(old_ref, None)
        ref = self._next_ref
        self._next_ref += 1
        self.components[ref] = Live(ref, instance, html, snapshot.state, snapshot.issued_at)
        self._refs_by_cid[cid] = ref
        return encode(Joined(cid, ref, html, None))

    # -- calls -----------------------------------------------------------------------

    def _not_joined(self, ref: int, seq: int | None) -> bytes:
        return self._error(
            ProtocolError(
                c.ERR_NOT_JOINED, f"no component has ref {ref} on this connection", seq=seq
            )
        )

    def _resync(self, frame: Resync) -> bytes:
        live = self.components.get(frame.ref)
        if live is None:
            return self._not_joined(frame.ref, None)
        return encode(Reply(live.ref, live.seq, live.html, None))

    async def _call(self, frame: Call) -> bytes:
        live = self.components.get(frame.ref)
        if live is None:
            return self._not_joined(frame.ref, frame.seq)
        instance, seq = live.instance, frame.seq
        cid = instance.id
        before = instance.dump_state()
        try:
            html, state = await self._apply(instance, frame)
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
            refusal = ProtocolError(c.ERR_COMPONENT_ERROR, message, cid=cid, seq=seq)
            return self._error(refusal, detail)
        live.seq = seq
        return encode(
            Reply(live.ref, seq, self._render_change(live, html), self._patch(live, state))
        )

    async def _apply(self, instance: Component, frame: Call) -> tuple[str, dict[str, Any]]:
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
        html = self.live.renderer.render_html(instance)
        return html, instance.dump_state()

    # -- what changed ------------------------------------------------------------------

    def _render_change(self, live: Live, html: str) -> str | list[Any] | None:
        if html == live.html:
            return None
        diff = diff_html(live.html, html)
        live.html = html
        return html if diff is None else diff

    def _patch(self, live: Live, state: dict[str, Any]) -> list[Any] | None:
        snapshots = self.live.snapshots
        now = snapshots.now()
        reissue = now - live.issued_at > REISSUE_AFTER
        ops = diff_state(live.state, state)
        if not ops and not reissue:
            return None
        issued_at = now if reissue else live.issued_at
        instance = live.instance
        mac = snapshots.mac(type(instance).name, instance.id, issued_at, state)
        live.state, live.issued_at = state, issued_at
        return [issued_at if reissue else None, ops, mac]


def _unknown_action(instance: Component, method: str) -> str:
    name = type(instance).name
    if callable(getattr(instance, method, None)):
        return f"{name}.{method} is not an @action and cannot be called from the browser"
    return f"{name} has no action {method!r}"
