"""Frame types and the msgpack codec for them, with size and shape limits.

Bytes in, typed frames out, and back: no I/O happens here. Decoding never trusts the
client: every field is checked for shape and a bad one raises ``ProtocolError``
with the wire code that the transport sends back in an error frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import msgpack

from livepy.protocol import constants as c
from livepy.protocol.errors import ProtocolError
from livepy.protocol.packing import pack

__all__ = [
    "Call",
    "ChannelEvent",
    "ErrorFrame",
    "Join",
    "JoinItem",
    "Joined",
    "Navigate",
    "Page",
    "Ping",
    "Pong",
    "Reply",
    "Resync",
    "Subscribe",
    "Unsubscribe",
    "Whisper",
    "decode_client_frame",
    "decode_server_frame",
    "encode",
    "encode_push",
    "encode_reply",
]


@dataclass(frozen=True, slots=True)
class JoinItem:
    cid: str
    snapshot: list[Any]  # [name, cid, issued_at, state, mac], verified by Snapshotter


@dataclass(frozen=True, slots=True)
class Join:
    """The client joins the components on its page, each with its signed snapshot."""

    components: tuple[JoinItem, ...]


@dataclass(frozen=True, slots=True)
class Call:
    """Model updates then action calls for one joined component (``ref``), numbered by ``seq``."""

    ref: int
    seq: int
    updates: dict[str, Any] = field(default_factory=dict)
    calls: tuple[tuple[str, tuple[Any, ...]], ...] = ()


@dataclass(frozen=True, slots=True)
class Reply:
    """What changed for one component.

    ``render``: None (unchanged), the full html (str) or a diff (list, see htmldiff).
    ``patch``: None (state unchanged) or ``[issued_at | None, ops, mac]``.
    """

    ref: int
    seq: int
    render: str | list[Any] | None
    patch: list[Any] | None
    effects: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Joined:
    """Answers a joined component: its ``ref`` on this connection and its full html."""

    cid: str
    ref: int
    html: str
    patch: list[Any] | None = None


@dataclass(frozen=True, slots=True)
class Resync:
    """The client's copy of a component's html is suspect: send it whole."""

    ref: int


@dataclass(frozen=True, slots=True)
class ErrorFrame:
    code: str
    message: str
    cid: str | None = None
    seq: int | None = None
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class Subscribe:
    """The page's JS listens on ``channel`` (``livepy.channel(name)``)."""

    channel: str


@dataclass(frozen=True, slots=True)
class Unsubscribe:
    channel: str


@dataclass(frozen=True, slots=True)
class Whisper:
    """A client event for the other members of ``channel``; relayed as ``client-<event>``."""

    channel: str
    event: str
    data: Any


@dataclass(frozen=True, slots=True)
class ChannelEvent:
    """An event on a channel the page's JS subscribed to (or a ``livepy:`` status of it)."""

    channel: str
    event: str
    data: Any


@dataclass(frozen=True, slots=True)
class Navigate:
    """``lp-navigate``: render the page at ``url`` (a same-origin path) for this page to swap in.

    ``nav`` numbers the request for the PAGE answer; ``cookies`` is what the page's script
    sees of ``document.cookie`` (cookies set after the WebSocket opened, such as a flash).
    """

    nav: int
    url: str
    cookies: str | None = None


@dataclass(frozen=True, slots=True)
class Page:
    """Answers a NAVIGATE. ``html`` None: load ``url`` with a full page load instead (status
    0), or fetch it (any other status: it sets cookies only the browser can store);
    ``error``: ``[code, message]`` when the request was refused."""

    nav: int
    status: int
    url: str
    html: str | None
    error: list[str] | None = None


@dataclass(frozen=True, slots=True)
class Ping:
    pass


@dataclass(frozen=True, slots=True)
class Pong:
    pass


ClientFrame = Join | Call | Resync | Subscribe | Unsubscribe | Whisper | Navigate | Ping | Pong
ServerFrame = Reply | Joined | ErrorFrame | ChannelEvent | Page | Ping | Pong


def encode(frame: ServerFrame | ClientFrame) -> bytes:
    """Encode any frame to its msgpack bytes."""
    match frame:
        case Reply(ref, seq, render, patch, effects):
            body: list[Any] = [c.FRAME_REPLY, ref, seq, render, patch]
            if effects is not None:
                body.append(effects)
        case Joined(cid, ref, html, patch):
            body = [c.FRAME_JOINED, cid, ref, html, patch]
        case Resync(ref):
            body = [c.FRAME_RESYNC, ref]
        case ErrorFrame(code, message, cid, seq, detail):
            body = [c.FRAME_ERROR, code, message, cid, seq, detail]
        case Join(components):
            body = [c.FRAME_JOIN, [[item.cid, item.snapshot] for item in components]]
        case Call(ref, seq, updates, calls):
            body = [c.FRAME_CALL, ref, seq, updates, [[name, list(args)] for name, args in calls]]
        case Subscribe(channel):
            body = [c.FRAME_SUBSCRIBE, channel]
        case Unsubscribe(channel):
            body = [c.FRAME_UNSUBSCRIBE, channel]
        case Whisper(channel, event, data):
            body = [c.FRAME_WHISPER, channel, event, data]
        case ChannelEvent(channel, event, data):
            body = [c.FRAME_EVENT, channel, event, data]
        case Navigate(nav, url, cookies):
            body = [c.FRAME_NAVIGATE, nav, url, cookies]
        case Page(nav, status, url, html, error):
            body = [c.FRAME_PAGE, nav, status, url, html, error]
        case Ping():
            body = [c.FRAME_PING]
        case Pong():
            body = [c.FRAME_PONG]
    return pack(body)


def encode_reply(
    ref: int,
    seq: int,
    render: str | list[Any] | None,
    patch: list[Any] | None,
    effects: dict[str, Any] | None = None,
) -> bytes:
    """``encode(Reply(ref, seq, render, patch, effects))`` without building the frozen frame
    and matching it again: the session sends one per click."""
    body: list[Any] = [c.FRAME_REPLY, ref, seq, render, patch]
    if effects is not None:
        body.append(effects)
    return pack(body)


def encode_push(ref: int, seq: int, render: tuple[bytes, ...], patch: tuple[bytes, ...]) -> bytes:
    """``encode_reply(ref, seq, render, patch)`` from the encodings of ``render`` and ``patch``,
    given in parts (the same bytes): a push splices in the parts that every component pushed
    the same change shares, encoded once (``livepy.fanout``)."""
    if not (ref | seq) >> 7:  # both positive fixints (0-127): a byte each
        head = bytes((_REPLY_HEADER, c.FRAME_REPLY, ref, seq))
    else:
        head = bytes((_REPLY_HEADER,)) + pack([c.FRAME_REPLY, ref, seq])[1:]
    return b"".join((head, *render, *patch))


_REPLY_HEADER = 0x95  # a fixarray of 5: [type, ref, seq, render, patch]


def _refuse_ext(code: int, data: bytes) -> Any:
    raise ProtocolError(c.ERR_BAD_FRAME, f"msgpack extension type {code} is not allowed")


def _unpack(data: bytes, max_bytes: int) -> list[Any]:
    if not isinstance(data, bytes | bytearray | memoryview):
        raise ProtocolError(c.ERR_BAD_FRAME, "frames must be binary msgpack, not text")
    if len(data) > max_bytes:
        raise ProtocolError(
            c.ERR_FRAME_TOO_LARGE, f"frame of {len(data)} bytes exceeds the limit of {max_bytes}"
        )
    try:
        body = msgpack.unpackb(
            data, raw=False, strict_map_key=True, ext_hook=_refuse_ext, use_list=True
        )
    except ProtocolError:
        raise
    except Exception as exc:  # msgpack raises several unrelated types for garbage
        raise ProtocolError(
            c.ERR_BAD_FRAME, f"frame is not valid msgpack ({type(exc).__name__}: {exc})"
        ) from None
    if not isinstance(body, list) or not body or type(body[0]) is not int:
        raise ProtocolError(c.ERR_BAD_FRAME, "a frame is a msgpack array starting with its type")
    return body


def _cid(value: Any) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= 64:
        raise ProtocolError(c.ERR_BAD_FRAME, "a component id is a string of 1 to 64 characters")
    return value


def _ref(value: Any) -> int:
    if type(value) is not int or not 0 < value < 2**31:
        raise ProtocolError(c.ERR_BAD_FRAME, "a component ref is a positive integer from JOINED")
    return value


def decode_client_frame(
    data: bytes,
    *,
    max_bytes: int = c.DEFAULT_MAX_FRAME_BYTES,
    max_calls: int = c.DEFAULT_MAX_CALLS_PER_FRAME,
    max_components: int = c.DEFAULT_MAX_COMPONENTS_PER_CONNECTION,
) -> ClientFrame:
    """Decode one frame sent by a browser. Raises ``ProtocolError`` on anything malformed."""
    body = _unpack(data, max_bytes)
    kind = body[0]
    if kind == c.FRAME_JOIN:
        if len(body) != 2 or not isinstance(body[1], list):
            raise ProtocolError(c.ERR_BAD_FRAME, "join is [1, [[cid, snapshot], ...]]")
        if len(body[1]) > max_components:
            raise ProtocolError(
                c.ERR_TOO_MANY_COMPONENTS,
                f"join lists {len(body[1])} components; the limit is {max_components}",
            )
        items = []
        for entry in body[1]:
            if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[1], list)):
                raise ProtocolError(c.ERR_BAD_FRAME, "each joined component is [cid, snapshot]")
            items.append(JoinItem(_cid(entry[0]), entry[1]))
        return Join(tuple(items))
    if kind == c.FRAME_CALL:
        if len(body) != 5:
            raise ProtocolError(c.ERR_BAD_FRAME, "call is [2, ref, seq, updates, calls]")
        _, ref, seq, updates, calls = body
        ref = _ref(ref)
        if type(seq) is not int or not 0 <= seq < 2**53:
            raise ProtocolError(c.ERR_BAD_FRAME, "seq is a non-negative integer")
        if not isinstance(updates, dict):
            raise ProtocolError(c.ERR_BAD_FRAME, "updates is a map", seq=seq)
        if not isinstance(calls, list):
            raise ProtocolError(c.ERR_BAD_FRAME, "calls is an array", seq=seq)
        if len(calls) + len(updates) > max_calls:
            raise ProtocolError(
                c.ERR_TOO_MANY_CALLS,
                f"{len(calls)} calls and {len(updates)} updates exceed the limit of {max_calls}",
                seq=seq,
            )
        parsed = []
        for call in calls:
            if not (
                isinstance(call, list)
                and len(call) == 2
                and isinstance(call[0], str)
                and isinstance(call[1], list)
            ):
                raise ProtocolError(c.ERR_BAD_FRAME, "each call is [method, [args...]]", seq=seq)
            parsed.append((call[0], tuple(call[1])))
        return Call(ref, seq, updates, tuple(parsed))
    if kind == c.FRAME_RESYNC:
        if len(body) != 2:
            raise ProtocolError(c.ERR_BAD_FRAME, "resync is [8, ref]")
        return Resync(_ref(body[1]))
    if kind in (c.FRAME_SUBSCRIBE, c.FRAME_UNSUBSCRIBE):
        if len(body) != 2 or not isinstance(body[1], str):
            raise ProtocolError(c.ERR_BAD_FRAME, f"(un)subscribe is [{kind}, channel]")
        return Subscribe(body[1]) if kind == c.FRAME_SUBSCRIBE else Unsubscribe(body[1])
    if kind == c.FRAME_WHISPER:
        if len(body) != 4 or not isinstance(body[1], str) or not isinstance(body[2], str):
            raise ProtocolError(c.ERR_BAD_FRAME, "whisper is [11, channel, event, data]")
        return Whisper(body[1], body[2], body[3])
    if kind == c.FRAME_NAVIGATE:
        return _navigate(body)
    if kind == c.FRAME_PING and len(body) == 1:
        return Ping()
    if kind == c.FRAME_PONG and len(body) == 1:
        return Pong()
    raise ProtocolError(c.ERR_BAD_FRAME, f"unknown frame type {kind}")


def _navigate(body: list[Any]) -> Navigate:
    if len(body) != 4:
        raise ProtocolError(c.ERR_BAD_FRAME, "navigate is [13, nav, url, cookies | nil]")
    _, nav, url, cookies = body
    if type(nav) is not int or not 0 <= nav < 2**31:
        raise ProtocolError(c.ERR_BAD_FRAME, "a navigation number is a non-negative integer")
    if not isinstance(url, str) or not 0 < len(url) <= 4096:
        raise ProtocolError(c.ERR_BAD_FRAME, "a navigation URL is a string of 1 to 4096 characters")
    if cookies is not None and (not isinstance(cookies, str) or len(cookies) > 8192):
        raise ProtocolError(c.ERR_BAD_FRAME, "navigation cookies are a string of at most 8192")
    return Navigate(nav, url, cookies)


def decode_server_frame(data: bytes) -> ServerFrame:
    """Decode a frame sent by the server (used by the test client and benchmarks)."""
    body = msgpack.unpackb(data, raw=False)
    kind = body[0]
    if kind == c.FRAME_REPLY:
        return Reply(*body[1:])
    if kind == c.FRAME_JOINED:
        return Joined(*body[1:])
    if kind == c.FRAME_ERROR:
        return ErrorFrame(*body[1:])
    if kind == c.FRAME_EVENT:
        return ChannelEvent(*body[1:])
    if kind == c.FRAME_PAGE:
        return Page(*body[1:])
    if kind == c.FRAME_PING:
        return Ping()
    if kind == c.FRAME_PONG:
        return Pong()
    raise ValueError(f"unknown server frame type {kind}")
