"""A live session: the component instances one connection holds, driven by decoded frames.

Transport-agnostic: it takes frame bytes and returns frame bytes. For each joined
component it remembers the html and state the client holds, so that replies carry only
what changed: a render diff and a snapshot patch. It never lets one component's failure
reach another component or the connection: every refusal and every exception becomes an
error frame scoped to the component and sequence number.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import inspect
import itertools
import logging
import secrets
import traceback
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, MutableMapping
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from livepy import features, registry
from livepy.broker import BrokerError
from livepy.channels.page import PageChannels
from livepy.component import Component, convert_arguments
from livepy.convert import ConversionError
from livepy.exceptions import UnknownComponentError
from livepy.features.props import follow_ups, is_bound
from livepy.held import Live, push_reply, render_change, snapshot_patch
from livepy.listeners import ChannelListeners
from livepy.protocol import constants as c
from livepy.protocol.errors import ProtocolError
from livepy.protocol.frames import (
    Call,
    ErrorFrame,
    Join,
    Joined,
    Navigate,
    Ping,
    Pong,
    Reply,
    Resync,
    Subscribe,
    Unsubscribe,
    Whisper,
    decode_client_frame,
    encode,
    encode_reply,
)
from livepy.pushbatch import push_batch
from livepy.rollback import RollbackPoint, restore, rollback_point

if TYPE_CHECKING:
    from livepy.app import LivePy
    from livepy.broadcasting import PendingBroadcast

__all__ = ["LiveSession", "active_live"]

logger = logging.getLogger("livepy.session")

MAGIC_REFRESH = "$refresh"
_active_live: ContextVar[LivePy | None] = ContextVar("livepy_active_live", default=None)

# A change to one component; it may return a throttle interval (seconds) for its render, or
# an awaitable of it (a broadcast's listeners that are plain functions need no coroutine).
Change = Callable[[Component], Awaitable[float | None] | float | None]
DEFERRED = b""  # _change's answer when the render was postponed by a throttle


def active_live() -> LivePy:
    """The LivePy whose session is running the current change (for actions and listeners)."""
    live = _active_live.get()
    if live is None:
        raise RuntimeError("this works only inside an action or listener that livepy runs")
    return live


async def _no_change(instance: Component) -> None:
    return None


class LiveSession:
    """Component instances of one connection, keyed by their ref on this connection."""

    def __init__(self, live: LivePy, *, client: str = "", user: Any = None) -> None:
        self.live = live
        self.client = client
        self.user = user
        self.connection_id = secrets.token_hex(8)
        self.components: dict[int, Live] = {}
        self._refs_by_cid: dict[str, int] = {}
        self._next_ref = 1
        # Sends a server-initiated frame (a pushed REPLY); None where nothing can be pushed.
        # It returns an awaitable to wait on, or, for a transport that queues the frame without
        # waiting (livepy.transport.direct), None or a bool: a fan-out then costs no coroutine
        # per frame (and no Awaitable check).
        self.push: Callable[[bytes], Awaitable[object] | bool | None] | None = None
        # Called once when broadcast work piles up beyond Limits.max_pending_pushes.
        self.on_overflow: Callable[[], Coroutine[Any, Any, None]] | None = None
        self._overflowed = False
        self._overflow_task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        # Created on the first broadcast: most connections never need them (memory per client).
        # A plain deque with the bound checked here: asyncio.Queue's waiter bookkeeping is
        # never used (nothing awaits it) and cost a few microseconds per component per push.
        self._work: deque[tuple[int, Change]] | None = None
        self._worker: asyncio.Task[None] | None = None
        self._draining = False  # a drain of _work is queued or running (batch or worker)
        self.listeners = ChannelListeners(
            live.broadcaster, user=user, connection_id=self.connection_id
        )
        self.listeners.run = self._schedule
        self._page_channels: PageChannels | None = None  # created on the first SUBSCRIBE/WHISPER
        # The ASGI scope of the WebSocket handshake: NAVIGATE renders pages with its cookies.
        self.scope: MutableMapping[str, Any] | None = None
        live.broadcaster.remember_loop()

    async def close(self) -> None:
        """The connection ended: stop listening, stop the push worker and pending flushes."""
        tasks = [self._worker, *(live.flush for live in self.components.values())]
        self._work = None  # a drain still waiting in the push batch finds nothing to do
        for task in tasks:
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await self.listeners.close()
        if self._page_channels is not None:
            await self._page_channels.close()

    async def receive(self, data: bytes) -> list[bytes]:
        """Handle one client frame; return the frames to send back, in order."""
        async with self._lock:
            frames, pending = await self._receive(data)
        if pending:  # most frames broadcast nothing: no coroutine to run for them
            await self._publish(pending)
        return frames

    async def _publish(self, pending: list[PendingBroadcast]) -> None:
        """Send what actions and listeners broadcast; outside the lock, since the memory
        broker delivers inline (possibly to this very session)."""
        for broadcast in pending:
            exclude = self.connection_id if broadcast.exclude_sender else None
            for channel in broadcast.channels:
                try:
                    await self.live.broadcaster.hub.publish(
                        channel, broadcast.event, broadcast.data, exclude
                    )
                except BrokerError as exc:
                    logger.warning("event=broadcast_failed channel=%s error=%s", channel, exc)

    async def _receive(self, data: bytes) -> tuple[list[bytes], list[PendingBroadcast]]:
        limits = self.live.limits
        try:
            frame = decode_client_frame(
                data,
                max_bytes=limits.max_frame_bytes,
                max_calls=limits.max_calls_per_frame,
                max_components=limits.max_components_per_connection,
            )
        except ProtocolError as exc:
            return [self._error(exc)], []
        if isinstance(frame, Call):  # first: nearly every frame is an action
            return await self._call(frame)
        if isinstance(frame, Join):
            return await self._join(frame)
        if isinstance(frame, Resync):
            return [self._resync(frame)], []
        if isinstance(frame, Subscribe | Unsubscribe | Whisper):
            return await self.page_channels().handle(frame), []
        if isinstance(frame, Navigate):
            return [await self._navigate(frame)], []
        if isinstance(frame, Ping):
            return [encode(Pong())], []
        return [], []  # Pong: the transport's heartbeat already saw traffic

    async def _navigate(self, frame: Navigate) -> bytes:
        """``lp-navigate``: the page is being replaced, so its components are let go, and the
        target page is rendered through the app (livepy/features/navigation/page.py)."""
        from livepy.features.navigation.page import render_page

        return encode(await render_page(self.scope, frame, self.leave_all))

    async def leave_all(self) -> None:
        """Forget every component of this connection: the page that held them is gone."""
        for ref, live in list(self.components.items()):
            if live.flush is not None and not live.flush.done():
                live.flush.cancel()
            await self.listeners.drop(ref)
        self.components.clear()
        self._refs_by_cid.clear()

    def page_channels(self) -> PageChannels:
        """The channels this page's JS subscribed to, and its whispers (livepy/channels/page)."""
        if self._page_channels is None:
            self._page_channels = PageChannels(self)
        return self._page_channels

    def _error(self, exc: ProtocolError, detail: str | None = None) -> bytes:
        logger.info("refused %s: %s (cid=%s seq=%s)", exc.code, exc.message, exc.cid, exc.seq)
        return encode(ErrorFrame(exc.code, exc.message, exc.cid, exc.seq, detail))

    # -- join ------------------------------------------------------------------------

    async def _join(self, frame: Join) -> tuple[list[bytes], list[PendingBroadcast]]:
        out: list[bytes] = []
        pending: list[PendingBroadcast] = []
        for item in frame.components:
            try:
                live, set_up = self._join_one(item.cid, item.snapshot)
            except ProtocolError as exc:
                out.append(self._error(exc))
                continue
            instance = live.instance
            refusals = await self.listeners.sync(live.ref, instance)
            patch = None
            if set_up:  # a feature set it up anew (a lazy mount): the client's snapshot follows
                patch = self._patch(live, instance.snapshot_state())
            lost: list[str] = []
            if instance.offsets:
                lost = await self.listeners.recover(live.ref, instance)
                error = await self._change(live, _no_change, None)
                if error is None:
                    live.html = live.next_html
                    patch = self._patch(live, live.next_state)
            out.append(encode(Joined(instance.id, live.ref, live.html, patch)))
            # What the join queued (a lazy mount() that dispatched): a push right after JOINED.
            effects, instance.pending_effects = instance.pending_effects, {}
            if effects:
                out.append(encode(Reply(live.ref, live.seq, None, None, effects)))
            pending += instance.pending_broadcasts
            instance.pending_broadcasts = []
            for channel in lost:
                message = f"events on {channel!r} were missed and are no longer in the history"
                out.append(self._error(ProtocolError(c.ERR_HISTORY_LOST, message, cid=instance.id)))
            out.extend(self._error(refusal) for refusal in refusals)
        return out, pending

    def _join_one(self, cid: str, wire: list[Any]) -> tuple[Live, bool]:
        """The joined component, and whether a feature set it up from the snapshot itself."""
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
        _active_live.set(self.live)  # a lazy mount() may sign values (flash messages)
        try:
            features.begin(instance)
            set_up = features.joining(instance, snapshot.state)  # a lazy placeholder mounts
            if not set_up:
                instance.load_state(snapshot.state)
                features.hydrate(instance)
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
        live = Live(ref, instance, html, snapshot.state, snapshot.issued_at)
        self.components[ref] = live
        self._refs_by_cid[cid] = ref
        return live, set_up

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
        # The whole state too: a client whose html was suspect may hold a stale state as well.
        instance = live.instance
        mac = self.live.snapshots.mac(type(instance).name, instance.id, live.issued_at, live.state)
        ops = [[[key], value] for key, value in live.state.items()]
        return encode(Reply(live.ref, live.seq, live.html, [live.issued_at, ops, mac]))

    async def _call(self, frame: Call) -> tuple[list[bytes], list[PendingBroadcast]]:
        live = self.components.get(frame.ref)
        if live is None:
            return [self._not_joined(frame.ref, frame.seq)], []
        instance, seq = live.instance, frame.seq
        error = await self._change(live, frame, seq)
        if error is not None:
            return [error], []
        live.seq = seq
        reply = self._reply(live)
        assert reply is not None
        out = [reply]
        # The common click reaches no bound component and changes no channel: no coroutines.
        if is_bound(instance):
            out += await self._propagate(live)
        if self.listeners.may_sync(live.ref, instance):
            for refusal in await self.listeners.sync(live.ref, instance):
                out.append(self._error(refusal))
        pending = instance.pending_broadcasts
        if pending:
            instance.pending_broadcasts = []
        return out, pending

    async def _change(self, live: Live, change: Change | Call, seq: int | None) -> bytes | None:
        # (returns DEFERRED when a throttled listener postponed the render)
        """Run ``change`` (or the browser's CALL) on a component and render it; on failure
        undo it, return the error."""
        instance = live.instance
        cid = instance.id
        # the held state, when the instance is known to match it; else the plain values when
        # that is a copy
        before = None if live.synced else rollback_point(instance)
        live.synced = False
        if instance.pending_broadcasts:
            instance.pending_broadcasts = []
        if _active_live.get() is not self.live:  # a set per click costs a context copy
            _active_live.set(self.live)  # for features that sign values, such as flash messages
        event = None
        try:
            features.begin(instance)
            try:
                if isinstance(change, Call):  # an action (no closure built per click)
                    throttle = await self._apply(instance, change)
                else:
                    event = getattr(change, "event", None)  # a broadcast: render once per state
                    outcome = change(instance)
                    if outcome is None or isinstance(outcome, float):
                        throttle = outcome
                    else:
                        throttle = await outcome
            except ProtocolError:
                raise
            except Exception as exc:
                # A feature or the component's exception() hook may handle it: the change
                # up to the error stands (validation keeps what the user typed), no error
                # frame; only the broadcasts of the failed action are dropped.
                if not features.exception(instance, exc):
                    raise
                instance.pending_broadcasts = []
                instance.pending_effects = {}
                throttle = None
            if throttle and self._loop_time() - live.pushed_at < throttle:
                live.dirty = True  # the render waits for the end of the throttle window
                self._flush_later(live, throttle)
                return DEFERRED
            if event is None:
                live.next_html = self.live.renderer.render_html(instance)
                live.next_state = instance.snapshot_state()
                live.next_rendering = None
            else:  # a broadcast: render once per state, dump and encode the state once
                renders = self.live.broadcaster.renders
                live.next_html, live.next_state, live.next_rendering = renders.render(
                    self.live.renderer, instance, event, live.held_rendering
                )
        except ProtocolError as exc:
            _undo(live, before)
            exc.cid, exc.seq = cid, seq
            return self._error(exc)
        except Exception as exc:
            _undo(live, before)
            logger.exception("component %s (%s) failed on seq %s", type(instance).name, cid, seq)
            detail = traceback.format_exc() if self.live.debug else None
            message = f"{type(instance).name} failed: {type(exc).__name__}"
            if self.live.debug:
                message += f": {exc}"
            refusal = ProtocolError(c.ERR_COMPONENT_ERROR, message, cid=cid, seq=seq)
            return self._error(refusal, detail)
        return None

    async def _propagate(self, live: Live) -> list[bytes]:
        """Reactive and modelable props (features.props): the parent or children that
        ``live``'s change reaches on this connection change and re-render in the same
        request, and so on from them; pushed REPLY frames, bounded by the component count."""
        frames: list[bytes] = []
        todo, budget = [live], 2 * len(self.components)
        while todo and budget > 0:
            source = todo.pop(0)
            if not is_bound(source.instance):
                continue  # most components: nothing to pass on, no dict to build
            by_id = {other.instance.id: other.instance for other in self.components.values()}
            for cid, change in follow_ups(source.instance, by_id):
                target = self.components.get(self._refs_by_cid.get(cid, -1))
                if target is None or budget <= 0:
                    continue
                budget -= 1
                error = await self._change(target, change, None)
                frame = error if error is not None else self._reply(target, ack=False)
                if frame:
                    frames.append(frame)
                if error is None:
                    todo.append(target)
        return frames

    def _reply(self, live: Live, *, ack: bool = True) -> bytes | None:
        """The REPLY for a change; without ``ack`` (a push), None when nothing changed."""
        instance = live.instance
        effects = instance.pending_effects
        if not ack and not effects:
            frame = self._push_frame(live)
        else:  # (a push with effects is always sent)
            if effects:
                instance.pending_effects = {}
            render = self._render_change(live, live.next_html)
            patch = self._patch(live, live.next_state)
            frame = encode_reply(live.ref, live.seq, render, patch, effects or None)
        live.synced = True  # the instance is as live.state says, until its next change
        return frame

    def _push_frame(self, live: Live) -> bytes | None:
        """A push's REPLY without effects, None when nothing changed: the parts every component
        of the broadcast shares are encoded once (held.push_reply)."""
        return push_reply(live, self.live.broadcaster.renders, self.live.snapshots)

    # -- pushes ------------------------------------------------------------------------

    def _schedule(self, refs: list[int], change: Change) -> None:
        """Queue a change from a broadcast for components ``refs``; a worker applies changes in
        arrival order (no coroutine: a broadcast queues one per subscribed component)."""
        work = self._work
        if work is None:
            work = self._work = deque()
        bound = self.live.limits.max_pending_pushes
        if 0 < bound < len(work) + len(refs):
            logger.warning("event=slow_consumer client=%s pending=%d", self.client, len(work))
            if self.on_overflow is not None and not self._overflowed:
                self._overflowed = True  # the transport closes; the client recovers on rejoin
                self._overflow_task = asyncio.get_running_loop().create_task(self.on_overflow())
            refs = refs[: max(0, bound - len(work))]  # what fits: the rest is dropped
            if not refs:
                return
        work.extend(zip(refs, itertools.repeat(change)))
        if not self._draining:  # else the drain under way takes it, in order
            self._draining = True
            push_batch().add(self._drain_queued, self._adopt_worker)

    async def _drain_queued(self) -> None:
        """The drain the push batch runs (livepy.pushbatch): no task per session."""
        try:
            await self._drain()
        finally:
            self._draining = False

    def _adopt_worker(self, task: asyncio.Task[None]) -> None:
        self._worker = task  # a drain that waited goes on in a task close() can cancel

    async def _drain(self) -> None:
        while self._work:  # (None once the connection closed)
            # One lock for the changes queued now (a broadcast to five components of a page
            # queues five), not for those that arrive meanwhile: a click waits for one batch at
            # most. Their frames and broadcasts go out after it, in order, even if one failed.
            outcomes: list[tuple[list[bytes | None], list[PendingBroadcast]]] = []
            failure: Exception | None = None
            async with self._lock:
                now = self._loop_time()  # the batch's push time (for throttle windows)
                work, components, settled = self._work, self.components, self.listeners.settled
                # A push without effects is push_reply itself, unless a subclass says otherwise
                # (PushSession numbers its pushes): no method calls around it per component.
                # It repeats _pushed's and _reply's bookkeeping inline: keep the three alike.
                cls = type(self)
                plain = (
                    cls._reply is LiveSession._reply and cls._push_frame is LiveSession._push_frame
                )
                renders, snapshots = self.live.broadcaster.renders, self.live.snapshots
                try:
                    for _ in range(len(work)):
                        if self._work is not work or not work:  # the connection closed meanwhile
                            break
                        ref, change = work.popleft()
                        live = components.get(ref)
                        if live is None:
                            continue
                        # A broadcast's change to one component: its frames and its own
                        # broadcasts (inline: one coroutine per component, _change's)
                        error = await self._change(live, change, None)
                        if error is DEFERRED:
                            continue
                        if error is not None:
                            outcomes.append(([error], []))
                            continue
                        instance = live.instance
                        if plain and not instance.pending_effects:
                            live.pushed_at, live.dirty = now, False
                            frames = [push_reply(live, renders, snapshots)]
                            live.synced = True  # (as _reply says)
                        else:
                            frames = [self._pushed(live, now)]
                        if is_bound(instance) or not settled(ref, instance):
                            frames += await self._follow_up(live)
                        pending = instance.pending_broadcasts
                        if pending:
                            instance.pending_broadcasts = []
                        outcomes.append((frames, pending))
                except Exception as exc:
                    failure = exc
            push = self.push
            for frames, pending in outcomes:
                for frame in frames:
                    if push is not None and frame is not None:
                        sent = push(frame)
                        if sent is not None and not isinstance(sent, bool):
                            await sent
                if pending:
                    await self._publish(pending)
            if failure is not None:
                raise failure

    async def _follow_up(self, live: Live) -> list[bytes | None]:
        """What a pushed change leads to beyond its own frame: bound components' changes and
        the channels its new state names."""
        frames: list[bytes | None] = []
        if is_bound(live.instance):
            frames += await self._propagate(live)
        refusals = await self.listeners.sync(live.ref, live.instance)
        return frames + [self._error(refusal) for refusal in refusals]

    def _pushed(self, live: Live, now: float) -> bytes | None:
        live.pushed_at = now
        live.dirty = False
        return self._reply(live, ack=False)

    @staticmethod
    def _loop_time() -> float:
        return asyncio.get_running_loop().time()

    def _flush_later(self, live: Live, throttle: float) -> None:
        """Render and push a throttled component once its window ends, with its latest state."""
        if live.flush is not None and not live.flush.done():
            return
        delay = max(0.0, live.pushed_at + throttle - self._loop_time())
        live.flush = asyncio.get_running_loop().create_task(self._flush(live, delay))

    async def _flush(self, live: Live, delay: float) -> None:
        await asyncio.sleep(delay)
        async with self._lock:
            if not live.dirty or self.components.get(live.ref) is not live:
                return
            error = await self._change(live, _no_change, None)
            frame = error if error is not None else self._pushed(live, self._loop_time())
        if self.push is not None and frame is not None:
            sent = self.push(frame)
            if inspect.isawaitable(sent):
                await sent

    async def _apply(self, instance: Component, frame: Call) -> float | None:
        for name, value in frame.updates.items():
            try:
                instance.set_field(name, value)
            except ConversionError as exc:
                raise ProtocolError(c.ERR_BAD_UPDATE, str(exc)) from None
        for method, args in frame.calls:
            if method == MAGIC_REFRESH and not args:
                continue
            reserved = features.reserved_call(instance, method, args) if method[:1] == "$" else None
            if reserved is not None:  # such as "$event", a dispatched event (features.events)
                await reserved
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
        return None

    # -- what changed ------------------------------------------------------------------

    def _render_change(self, live: Live, html: str) -> str | list[Any] | None:
        return render_change(live, html)

    def _patch(self, live: Live, state: dict[str, Any]) -> list[Any] | None:
        return snapshot_patch(live, state, self.live.snapshots)


def _undo(live: Live, before: RollbackPoint | None) -> None:
    """Put a component back as it was before its change failed: to ``before``, or to the state
    its browser holds when the instance was known to match it (a copy: held states may be
    shared between components, and a restored field must not alias one)."""
    instance = live.instance
    restore(instance, copy.deepcopy(live.state) if before is None else before)
    instance.pending_broadcasts = []
    instance.pending_effects = {}
    features.rollback(instance)


def _unknown_action(instance: Component, method: str) -> str:
    name = type(instance).name
    if callable(getattr(instance, method, None)):
        return f"{name}.{method} is not an @action and cannot be called from the browser"
    return f"{name} has no action {method!r}"
