"""A browserless test client for components: ``live.test(Counter, start=1).call("increment")``.

It drives a component through the same session code the socket uses (joins, conversions,
diffs, snapshot patches), holding what a browser would hold, so assertions see exactly
what a user would see.
"""

from __future__ import annotations

import asyncio
import html as html_module
import re
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

import msgpack

from livepy import features, registry
from livepy.broker.hub import Event
from livepy.component import Component
from livepy.features.validation import ErrorBag, errors_of
from livepy.protocol import constants as c
from livepy.protocol.frames import (
    Call,
    ErrorFrame,
    Join,
    Joined,
    JoinItem,
    Reply,
    decode_server_frame,
    encode,
)
from livepy.protocol.htmldiff import apply_diff
from livepy.protocol.snapshot import b64decode
from livepy.protocol.statepatch import apply_ops
from livepy.pushbatch import push_batch
from livepy.session import LiveSession

if TYPE_CHECKING:
    from livepy.app import LivePy

__all__ = ["ComponentTest", "LivepyTestError", "authorize"]

T = TypeVar("T")
_SNAPSHOT = re.compile(c.ATTR_SNAPSHOT + r'="([^"]+)"')
_TAGS = re.compile(r"<[^>]*>")


class LivepyTestError(AssertionError):
    """The server answered with an error frame; ``code`` is its wire code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def _run(coro: Coroutine[Any, Any, T]) -> T:
    # Not inside an `except RuntimeError:` block: a failure logged while the coroutine runs
    # would otherwise carry "During handling ... no running event loop" in its traceback.
    if not _in_loop():
        return asyncio.run(coro)
    coro.close()
    raise RuntimeError(
        "ComponentTest's sync methods cannot run inside an event loop; "
        "use the `a`-prefixed coroutine versions (await t.acall(...))"
    )


class ComponentTest:
    """One mounted component under test. Methods return ``self`` so calls chain."""

    def __init__(
        self,
        live: LivePy,
        component: type[Component] | str,
        *,
        acting_as: Any = None,
        query: str | dict[str, Any] | None = None,
        **props: Any,
    ) -> None:
        name = component if isinstance(component, str) else component.name
        cls = registry.resolve(name)
        instance = cls()
        instance.id = "test"
        instance.mount(**props)
        # ``query="q=shoes&page=2"`` (or a dict): the page request's query string, for Url fields.
        features.mounted(instance, _page_request(query))
        page_html = live.renderer.render_page_html(instance)
        match = _SNAPSHOT.search(page_html)
        assert match is not None
        self.live = live
        self.snapshot: list[Any] = msgpack.unpackb(b64decode(match.group(1)), raw=False)
        self.html = page_html
        self.session = LiveSession(live, client="test", user=acting_as)
        self.ref = 0
        self.seq = 0
        self.last_reply: Reply | None = None
        self.broadcasts: list[tuple[str, str, Any]] = []  # (channel, event, data) sent
        self.pushed: list[bytes] = []
        self.refusals: list[ErrorFrame] = []
        # every effect the replies carried, in order: (kind, value)
        self.effects: list[tuple[str, Any]] = []
        live.broadcaster.hub.observers.append(
            lambda channel, event, data, exclude: self.broadcasts.append((channel, event, data))
        )

        async def capture(frame: bytes) -> None:
            self.pushed.append(frame)

        self.session.push = capture
        self._joined = False
        if not _in_loop():  # inside an event loop, the join waits for the first a-method
            _run(self._join())

    async def _join(self) -> None:
        frames = await self.session.receive(encode(Join((JoinItem("test", self.snapshot),))))
        self.refusals = [
            f for f in map(decode_server_frame, frames[1:]) if isinstance(f, ErrorFrame)
        ]
        joined = decode_server_frame(frames[0])
        if isinstance(joined, ErrorFrame):
            raise LivepyTestError(joined.code, joined.message)
        assert isinstance(joined, Joined)
        self.ref, self.html = joined.ref, joined.html
        self._joined = True

    # -- driving ---------------------------------------------------------------------

    async def acall(self, method: str, *args: Any) -> ComponentTest:
        return await self._send({}, ((method, args),))

    async def aset(self, field: str, value: Any) -> ComponentTest:
        return await self._send({field: value}, ())

    def call(self, method: str, *args: Any) -> ComponentTest:
        """Call an action as the browser would, with browser-style (plain) arguments."""
        return _run(self.acall(method, *args))

    def set(self, field: str, value: Any) -> ComponentTest:
        """Update a field as ``lp-model`` would."""
        return _run(self.aset(field, value))

    async def aset_many(self, values: dict[str, Any]) -> ComponentTest:
        return await self._send(dict(values), ())

    def set_many(self, values: dict[str, Any]) -> ComponentTest:
        """Several model updates in one CALL, as deferred ``lp-model`` fields are sent."""
        return _run(self.aset_many(values))

    def upload(self, field: str, *files: tuple[str, bytes]) -> ComponentTest:
        """Upload ``(name, bytes)`` files into an ``UploadedFile`` field, as a file input with
        ``lp-model`` does once its files arrived (their type is sniffed from the bytes)."""
        from livepy.features.uploads import upload_value

        return self.set(field, upload_value(self.live.uploads, self.instance, field, files))

    async def _send(self, updates: dict[str, Any], calls: tuple[Any, ...]) -> ComponentTest:
        if not self._joined:
            await self._join()
        self.seq += 1
        data, *rest = await self.session.receive(encode(Call(self.ref, self.seq, updates, calls)))
        self.refusals += [f for f in map(decode_server_frame, rest) if isinstance(f, ErrorFrame)]
        frame = decode_server_frame(data)
        if isinstance(frame, ErrorFrame):
            raise LivepyTestError(frame.code, frame.message)
        assert isinstance(frame, Reply)
        self._apply(frame)
        return self

    def _apply(self, frame: Reply) -> None:
        self.last_reply = frame
        for kind, values in (frame.effects or {}).items():
            self.effects.extend((kind, value) for value in values)
        if isinstance(frame.render, str):
            self.html = frame.render
        elif isinstance(frame.render, list):
            self.html = apply_diff(self.html, frame.render)
        if frame.patch is not None:
            issued_at, ops, mac = frame.patch
            apply_ops(self.snapshot[3], ops)
            if issued_at is not None:
                self.snapshot[2] = issued_at
            self.snapshot[4] = mac

    # -- broadcasting ------------------------------------------------------------------

    async def areceive(self, channel: str, event: str, data: Any = None) -> ComponentTest:
        """Deliver a broadcast event as if it came through the broker, then apply the push."""
        if not self._joined:
            await self._join()
        await self.session.listeners.deliver(Event(channel, event, data, None, "", "0"))
        await push_batch().settle()  # the push is drained by this loop's batch (pushbatch)
        worker = self.session._worker
        if worker is not None:
            await worker
        frames = self.pushed[:]
        self.pushed.clear()  # taken even when one is an error: the next receive starts afresh
        for frame_bytes in frames:
            frame = decode_server_frame(frame_bytes)
            if isinstance(frame, ErrorFrame):
                raise LivepyTestError(frame.code, frame.message)
            assert isinstance(frame, Reply)
            self._apply(frame)
        return self

    def receive(self, channel: str, event: str, data: Any = None) -> ComponentTest:
        return _run(self.areceive(channel, event, data))

    def assert_broadcast(self, channel: str, event: str, data: Any = ...) -> ComponentTest:
        """An action of this test broadcast ``event`` on ``channel`` (with ``data``, if given)."""
        for sent in self.broadcasts:
            if sent[:2] == (channel, event) and (data is ... or sent[2] == data):
                return self
        raise AssertionError(f"no broadcast of {event!r} on {channel!r}; sent: {self.broadcasts}")

    def assert_listening(self, channel: str) -> ComponentTest:
        assert self.session.listeners.listening(self.ref, channel), f"not listening on {channel!r}"
        return self

    def assert_refused(self, channel: str) -> ComponentTest:
        found = [f for f in self.refusals if channel in f.message]
        assert found, f"{channel!r} was not refused; refusals: {self.refusals}"
        return self

    # -- looking -----------------------------------------------------------------------

    @property
    def state(self) -> dict[str, Any]:
        """The state as the browser holds it (plain data)."""
        state: dict[str, Any] = self.snapshot[3]
        return state

    @property
    def text(self) -> str:
        return html_module.unescape(" ".join(_TAGS.sub(" ", self.html).split()))

    def assert_see(self, text: str) -> ComponentTest:
        assert text in self.text, f"{text!r} not in the rendered text: {self.text!r}"
        return self

    def assert_dont_see(self, text: str) -> ComponentTest:
        assert text not in self.text, f"{text!r} is in the rendered text: {self.text!r}"
        return self

    def assert_see_html(self, fragment: str) -> ComponentTest:
        assert fragment in self.html, f"{fragment!r} not in {self.html!r}"
        return self

    @property
    def instance(self) -> Component:
        """The server-side component instance this test drives."""
        live = self.session.components.get(self.ref)
        if live is None:
            if not self._joined:
                _run(self._join())
            live = self.session.components[self.ref]
        live.synced = False  # a test may set fields on it directly: its next change copies
        return live.instance

    @property
    def errors(self) -> ErrorBag:
        """The component's validation error bag."""
        return errors_of(self.instance)

    def assert_has_errors(self, field: str | None = None) -> ComponentTest:
        """Validation left an error (for ``field``, if given)."""
        assert self.errors.has(field), (
            f"no validation errors{'' if field is None else f' for {field!r}'}; "
            f"errors: {self.errors.messages}"
        )
        return self

    def assert_has_no_errors(self, field: str | None = None) -> ComponentTest:
        """No validation error is left (for ``field``, if given)."""
        assert not self.errors.has(field), f"validation errors: {self.errors.messages}"
        return self

    def assert_set(self, field: str, value: Any) -> ComponentTest:
        assert self.state.get(field) == value, (
            f"{field} is {self.state.get(field)!r}, not {value!r}"
        )
        return self

    # -- events and navigation (livepy/features/events, livepy/features/navigation) ----------

    async def adispatch(self, event: str, /, **params: Any) -> ComponentTest:
        return await self._send({}, (("$event", (event, params)),))

    def dispatch(self, event: str, /, **params: Any) -> ComponentTest:
        """Deliver a component event to this component's ``@on(event)`` listeners."""
        return _run(self.adispatch(event, **params))

    def _effect_values(self, kind: str) -> list[Any]:
        return [value for k, value in self.effects if k == kind]

    def assert_dispatched(self, event: str, /, **params: Any) -> ComponentTest:
        """An event was dispatched (with these params, if given; others may be there too)."""
        sent = self._effect_values("dispatch")
        for value in sent:
            got = value.get("params", {})
            if value["name"] == event and all(got.get(k, ...) == v for k, v in params.items()):
                return self
        raise AssertionError(f"{event!r} was not dispatched with {params}; dispatched: {sent}")

    def assert_not_dispatched(self, event: str) -> ComponentTest:
        sent = [value for value in self._effect_values("dispatch") if value["name"] == event]
        assert not sent, f"{event!r} was dispatched: {sent}"
        return self

    def assert_dispatched_browser(self, event: str, /, **detail: Any) -> ComponentTest:
        """A browser event was dispatched (with this detail, if given)."""
        sent = self._effect_values("browser_event")
        for value in sent:
            got = value.get("detail", {})
            if value["name"] == event and all(got.get(k, ...) == v for k, v in detail.items()):
                return self
        raise AssertionError(f"no browser event {event!r} with {detail}; dispatched: {sent}")

    def assert_redirect(self, url: str | None = None) -> ComponentTest:
        """The last reply redirects (to ``url``, if given)."""
        reply = self.last_reply
        targets = [value["url"] for value in ((reply and reply.effects) or {}).get("redirect", [])]
        assert targets, "no redirect"
        assert url is None or targets[-1] == url, f"redirects to {targets[-1]!r}, not {url!r}"
        return self


def authorize(live: LivePy, user: Any, channel: str) -> Any:
    """Run the ``@live.channel`` rules for ``user`` and ``channel``: ``.allowed``, ``.member``."""
    return _run(live.broadcaster.authorizer.authorize(user, channel))


def _page_request(query: str | dict[str, Any] | None) -> Any:
    """A GET request for the page a component is first rendered on, with ``query``."""
    from urllib.parse import urlencode

    from starlette.requests import Request

    if isinstance(query, dict):
        query = urlencode(query, doseq=True)
    scope = {"type": "http", "method": "GET", "path": "/", "headers": []}
    return Request({**scope, "query_string": (query or "").lstrip("?").encode()})


def _in_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True
