"""Shared machinery of the benchmarks: server subprocesses, statistics, protocol clients.

* ``Server`` runs ``_serve.py`` (uvicorn on 127.0.0.1, a port the OS picks) in any venv and
  always stops it: on ``stop()``, on exit of a ``with`` block, and by itself if the
  benchmark process dies (it watches its stdin).
* ``LiveClient`` speaks livepy's wire protocol v2 (docs/topics/protocol.md) with a client-side
  model like the JS runtime's: it applies each render diff to its cached html (checking the
  CRC) and each snapshot patch to its copy of the snapshot, so it can rejoin with it.
* ``PhxClient`` speaks Phoenix channels v2 JSON to pyview-web, the way the bundled
  phoenix_live_view JS does (compact JSON). ``UnicornClient`` posts django-unicorn messages the
  way unicorn.js does.

Nothing here connects anywhere but 127.0.0.1. Every wait has a timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import platform
import re
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgpack

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
APPS = BENCH / "apps"
RESULTS = BENCH / "results"
SERVE = BENCH / "_serve.py"
HOST = "127.0.0.1"
SECRET_KEY = "livepy-benchmark-secret-key-not-for-production"
STARTUP_TIMEOUT = 30.0

# Documented figures (not measured here); see shared/research/peers.md and livewire.md.
LIVEVIEW_COUNTER_REPLY = 93  # phx_reply {"diff":{"0":"1"}} with a 20-char view id, compact JSON
LIVEVIEW_COUNTER_EVENT = 95
LIVEWIRE_TABLE_CELL = 38_444  # 200-row table, one status cell: morph response (PR #10416)


# --------------------------------------------------------------------------- servers


class Server:
    """One uvicorn server subprocess; use as a context manager or call stop()."""

    def __init__(
        self,
        name: str,
        app: str,
        *,
        python: str | Path = sys.executable,
        cwd: Path = ROOT,
        env: dict[str, str] | None = None,
        pythonpath: Sequence[Path] = (),
    ) -> None:
        self.name = name
        self.app = app
        self.python = str(python)
        self.cwd = cwd
        self.env = dict(os.environ)
        self.env.pop("PYTHONHOME", None)
        self.env["LIVEPY_SECRET_KEY"] = SECRET_KEY
        self.env["PYTHONPATH"] = os.pathsep.join(str(p) for p in (ROOT, *pythonpath))
        self.env.update(env or {})
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.pid = 0
        self.info: dict[str, Any] = {}

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def ws_base(self) -> str:
        return f"ws://{HOST}:{self.port}"

    def start(self) -> Server:
        cmd = [self.python, str(SERVE), self.app]
        self.proc = subprocess.Popen(
            cmd, cwd=self.cwd, env=self.env, stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        assert self.proc.stdout is not None
        deadline = time.monotonic() + STARTUP_TIMEOUT
        ready, _, _ = select.select([self.proc.stdout], [], [], STARTUP_TIMEOUT)
        line = self.proc.stdout.readline() if ready else b""
        try:
            self.info = json.loads(line)
        except ValueError:
            self.stop()
            raise RuntimeError(
                f"{self.name} server did not report its port (exit {self.proc.poll()})"
            ) from None
        self.port, self.pid = self.info["port"], self.info["pid"]
        while time.monotonic() < deadline:  # the socket listens once uvicorn has started
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} server exited with {self.proc.returncode}")
            try:
                socket.create_connection((HOST, self.port), timeout=0.5).close()
                return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{self.name} server did not start within {STARTUP_TIMEOUT}s")

    def stop(self) -> None:
        proc = self.proc
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        for pipe in (proc.stdin, proc.stdout):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()

    def __enter__(self) -> Server:
        return self.start() if self.proc is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# What `livepy serve` gives uvicorn as ws=: livepy's direct send for /livepy/ws (and lean Pusher
# sockets). BENCH_LIVEPY_WS=websockets-sansio measures livepy through plain ASGI instead.
LIVEPY_WS = os.environ.get("BENCH_LIVEPY_WS", "livepy.pusher.lean:PusherWebSocketProtocol")
ASGI_WS = "websockets-sansio"


def livepy_server(name: str, app: str, *, ws: str = LIVEPY_WS, **env: str) -> Server:
    """A livepy app from this repository (``examples...`` or ``benchmarks/apps``), served with
    uvicorn's ``ws=`` set to ``ws`` (by default as ``livepy serve`` serves it)."""
    return Server(name, app, pythonpath=[APPS], env={"BENCH_UVICORN_WS": ws, **env})


def echo_server(reply_bytes: int) -> Server:
    return Server("bare", f"echo:{reply_bytes}")


def git_revision() -> str:
    """The commit measured, with "+dirty" when livepy/ or examples/ have local changes."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "livepy", "examples"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def exit_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit so that ``finally`` blocks stop the servers."""

    def on_term(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_term)


async def deadline(coro: Any, seconds: float) -> Any:
    """Await ``coro`` with a deadline so a stuck server cannot hang a benchmark."""
    async with asyncio.timeout(seconds):
        return await coro


# --------------------------------------------------------------------------- statistics


def percentile(values: Sequence[float], p: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def ws_header(payload: int, masked: bool) -> int:
    """RFC 6455 frame header bytes for one unfragmented message of ``payload`` bytes."""
    size = 2 if payload <= 125 else 4 if payload <= 0xFFFF else 10
    return size + (4 if masked else 0)


def median_int(values: Sequence[int]) -> int:
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def print_table(rows: Sequence[Sequence[str]], *, right_from: int = 1) -> None:
    """Print rows as aligned columns; the first row is a header."""
    width = max(len(r) for r in rows)
    rows = [tuple(r) + ("",) * (width - len(r)) for r in rows]
    widths = [max(len(r[i]) for r in rows) for i in range(width)]
    for i, row in enumerate(rows):
        cells = [
            f"{c:<{w}}" if j < right_from else f"{c:>{w}}"
            for j, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        print("  ".join(cells).rstrip())
        if i == 0:
            print("-" * (sum(widths) + 2 * (width - 1)))


def ws_connect(url: str, **kwargs: Any) -> Any:
    from websockets.asyncio.client import connect

    # No compression: byte counts are the real payloads. No keepalive pings during a run.
    return connect(
        url, compression=None, ping_interval=None, max_size=None, open_timeout=10, **kwargs
    )


# --------------------------------------------------------------------------- livepy (v2)


_ROOT_TAG = re.compile(r"<[^>]*\blp-id=\"([^\"]+)\"[^>]*>")
_SNAPSHOT = re.compile(r"\blp-snapshot=\"([^\"]+)\"")


def _packb(value: Any) -> bytes:
    packed: bytes = msgpack.packb(value, use_bin_type=True)
    return packed


def page_snapshots(html: str) -> list[list[Any]]:
    """The snapshot arrays ``[name, cid, issued_at, state, mac]`` of a page's components."""
    from livepy.protocol import b64decode

    found = []
    for tag in _ROOT_TAG.finditer(html):
        snap = _SNAPSHOT.search(tag.group(0))
        if snap is not None:
            found.append(msgpack.unpackb(b64decode(snap.group(1)), raw=False))
    if not found:
        raise RuntimeError("no component root with lp-id and lp-snapshot on the page")
    return found


@dataclass
class LiveComponent:
    """The client's model of one joined component, as the JS runtime keeps it."""

    name: str
    cid: str
    issued_at: int
    state: dict[str, Any]
    mac: bytes
    ref: int = -1
    seq: int = 0
    html: str = ""

    @classmethod
    def from_snapshot(cls, snap: list[Any]) -> LiveComponent:
        name, cid, issued_at, state, mac = snap
        return cls(name, cid, issued_at, state, mac)

    def snapshot(self) -> list[Any]:
        return [self.name, self.cid, self.issued_at, self.state, self.mac]

    def apply_patch(self, patch: list[Any] | None) -> None:
        if patch is None:
            return
        issued_at, ops, mac = patch
        if issued_at is not None:
            self.issued_at = issued_at
        from livepy.protocol import apply_ops

        apply_ops(self.state, ops)
        self.mac = mac


@dataclass
class LiveReply:
    """One REPLY as received, with where its bytes went."""

    total: int  # whole WebSocket message payload
    render_kind: str  # "diff", "html" or "none"
    render_bytes: int  # msgpack size of the render element
    patch_bytes: int  # msgpack size of the snapshot-patch element
    effects_bytes: int  # msgpack size of the effects element (0 if absent)
    framing_bytes: int  # frame type, ref, seq, array header
    html: str  # the component's html after applying the reply
    render: Any = None
    patch: Any = None

    def as_full_html_v2(self) -> int:
        """The same reply with the whole html as its render (what a diff saves)."""
        return self.total - self.render_bytes + len(_packb(self.html))


class LiveError(RuntimeError):
    pass


def v1_reply_bytes(comp: LiveComponent, html: str) -> int:
    """What protocol v1 sent for this state: ``[3, cid, seq, html, snapshot, nil]``.

    v1's snapshot was ``msgpack([1, name, cid, issued_at, state]) + 16-byte MAC`` as bin.
    """
    snapshot = _packb([1, comp.name, comp.cid, comp.issued_at, comp.state]) + bytes(16)
    return len(_packb([3, comp.cid, comp.seq, html, snapshot, None]))


class LiveClient:
    """A livepy protocol-v2 client on one WebSocket, built on ``livepy.protocol``."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.by_ref: dict[int, LiveComponent] = {}
        self.sent: list[int] = []

    @classmethod
    @contextlib.asynccontextmanager
    async def connect(cls, server: Server, path: str = "/livepy/ws") -> Any:
        async with ws_connect(server.ws_base + path) as ws:
            yield cls(ws)

    async def send(self, frame: Any) -> int:
        from livepy.protocol import encode

        data = encode(frame)
        await self.ws.send(data)
        self.sent.append(len(data))
        return len(data)

    async def recv_frame(self) -> tuple[bytes, Any]:
        from livepy.protocol import ErrorFrame, Ping, Pong, decode_server_frame

        while True:
            data = await self.ws.recv()
            frame = decode_server_frame(data)
            if isinstance(frame, Ping):
                await self.send(Pong())
                continue
            if isinstance(frame, ErrorFrame):
                raise LiveError(f"server error frame: {frame!r}")
            return data, frame

    async def join(self, comps: Sequence[LiveComponent]) -> list[int]:
        """JOIN the components; wait for each JOINED. Returns the JOINED message sizes."""
        from livepy.protocol import Join, Joined, JoinItem

        await self.send(Join(tuple(JoinItem(comp.cid, comp.snapshot()) for comp in comps)))
        by_cid = {comp.cid: comp for comp in comps}
        sizes = []
        for _ in comps:
            data, frame = await self.recv_frame()
            if not isinstance(frame, Joined):
                raise LiveError(f"expected JOINED, got {frame!r}")
            comp = by_cid[frame.cid]
            comp.ref, comp.html, comp.seq = frame.ref, frame.html, 0
            comp.apply_patch(frame.patch)
            self.by_ref[frame.ref] = comp
            sizes.append(len(data))
        return sizes

    async def call(
        self,
        comp: LiveComponent,
        calls: Sequence[tuple[str, Sequence[Any]]],
        updates: dict[str, Any] | None = None,
    ) -> LiveReply:
        from livepy.protocol import Call

        comp.seq += 1
        await self.send(
            Call(comp.ref, comp.seq, updates or {}, tuple((m, tuple(a)) for m, a in calls))
        )
        data, frame = await self.recv_frame()
        return self.take_reply(comp, data, frame)

    def take_reply(self, comp: LiveComponent, data: bytes, frame: Any) -> LiveReply:
        from livepy.protocol import Reply, apply_diff

        if not isinstance(frame, Reply) or frame.ref != comp.ref or frame.seq != comp.seq:
            raise LiveError(f"expected REPLY for ref {comp.ref} seq {comp.seq}, got {frame!r}")
        render, patch = frame.render, frame.patch
        if render is None:
            kind = "none"
        elif isinstance(render, str):
            kind, comp.html = "html", render
        else:
            kind, comp.html = "diff", apply_diff(comp.html, render)  # checks the CRC
        comp.apply_patch(patch)
        render_bytes, patch_bytes = len(_packb(render)), len(_packb(patch))
        effects_bytes = len(_packb(frame.effects)) if frame.effects is not None else 0
        return LiveReply(
            total=len(data),
            render_kind=kind,
            render_bytes=render_bytes,
            patch_bytes=patch_bytes,
            effects_bytes=effects_bytes,
            framing_bytes=len(data) - render_bytes - patch_bytes - effects_bytes,
            html=comp.html,
            render=render,
            patch=patch,
        )


async def live_page(server: Server, path: str = "/") -> list[LiveComponent]:
    """GET a page and return its components, decoded from their ``lp-snapshot``."""
    import httpx

    async with httpx.AsyncClient(timeout=10) as http:
        page = await http.get(server.base + path)
    page.raise_for_status()
    return [LiveComponent.from_snapshot(s) for s in page_snapshots(page.text)]


# --------------------------------------------------------------------------- pyview (Phoenix)


def compact_json(obj: Any) -> str:
    """The bytes JavaScript's JSON.stringify produces for these values."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


@dataclass
class PhxPage:
    url: str
    csrf: str
    session: str
    static: str
    topic: str


async def phx_page(server: Server, path: str) -> PhxPage:
    import httpx

    url = server.base + path
    async with httpx.AsyncClient(timeout=10) as http:
        resp = await http.get(url)
    resp.raise_for_status()
    html = resp.text

    def attr(pattern: str) -> str:
        match = re.search(pattern, html)
        if match is None:
            raise RuntimeError(f"pyview page has no {pattern!r}")
        return match.group(1)

    return PhxPage(
        url=url,
        csrf=attr(r'name="csrf-token" content="([^"]+)"'),
        session=attr(r'data-phx-session="([^"]*)"'),
        static=attr(r'data-phx-static="([^"]*)"'),
        topic="lv:" + attr(r'id="(phx-[^"]+)"'),
    )


@dataclass
class PhxClient:
    """A Phoenix channels v2 (JSON array) client joined to one pyview LiveView."""

    ws: Any
    page: PhxPage
    ref: int = 4
    sent: list[int] = field(default_factory=list)

    @classmethod
    @contextlib.asynccontextmanager
    async def connect(cls, server: Server, page: PhxPage) -> Any:
        from urllib.parse import quote

        url = f"{server.ws_base}/live/websocket?_csrf_token={quote(page.csrf)}&vsn=2.0.0"
        async with ws_connect(url) as ws:
            yield cls(ws, page)

    async def _push(self, event: str, payload: Any) -> tuple[int, str]:
        self.ref += 1
        text = compact_json(["4", str(self.ref), self.page.topic, event, payload])
        await self.ws.send(text)
        self.sent.append(len(text.encode()))
        while True:
            reply = await self.ws.recv()
            frame = json.loads(reply)
            if frame[1] == str(self.ref) and frame[3] == "phx_reply":
                if frame[4].get("status") != "ok":
                    raise RuntimeError(f"pyview refused {event}: {reply}")
                return len(text.encode()), reply

    async def join(self) -> str:
        self.ref = 3  # the first push uses ref "4", as the JS client's join does
        payload = {
            "url": self.page.url,
            "params": {"_csrf_token": self.page.csrf, "_mounts": 0},
            "session": self.page.session,
            "static": self.page.static,
            "flash": None,
        }
        _, reply = await self._push("phx_join", payload)
        return reply

    async def click(self, event: str, value: Any = None) -> tuple[int, str]:
        """A phx-click: returns (bytes sent, reply text)."""
        payload = {"type": "click", "event": event, "value": value or {"value": ""}}
        return await self._push("event", payload)


# --------------------------------------------------------------------------- django-unicorn


class UnicornClient:
    """Posts unicorn.js-shaped messages over one keep-alive HTTP connection."""

    _ROOT = re.compile(
        r"<div unicorn:id=\"([^\"]+)\" unicorn:name=\"([^\"]+)\"[^>]*"
        r"unicorn:data='([^']*)'[^>]*unicorn:meta=\"([^\"]*)\""
    )

    def __init__(self, http: Any, base: str) -> None:
        self.http = http
        self.base = base
        self.cid = self.name = self.csrf = self.checksum = self.hash = ""
        self.data: dict[str, Any] = {}

    @classmethod
    @contextlib.asynccontextmanager
    async def connect(cls, server: Server) -> Any:
        import httpx

        async with httpx.AsyncClient(timeout=10) as http:
            yield cls(http, server.base)

    async def load(self, path: str = "/") -> str:
        import html as html_lib

        resp = await self.http.get(self.base + path)
        resp.raise_for_status()
        self.csrf = resp.cookies["csrftoken"]
        root = self._ROOT.search(resp.text)
        if root is None:
            raise RuntimeError("no unicorn component root on the page")
        self.cid, self.name = root.group(1), root.group(2)
        self.data = json.loads(html_lib.unescape(root.group(3)))
        self.checksum, self.hash = [*root.group(4).split(":"), ""][:2]
        return str(resp.text)

    async def call(self, method: str) -> tuple[int, int, dict[str, Any]]:
        """POST one callMethod; returns (request body bytes, response body bytes, response)."""
        body = compact_json(
            {
                "id": self.cid,
                "data": self.data,
                "meta": f"{self.checksum}:{self.hash}:{int(time.time() * 1000)}",
                "actionQueue": [
                    {"type": "callMethod", "payload": {"name": method}, "partials": []}
                ],
            }
        ).encode()
        headers = {
            "Accept": "application/json",
            "X-Requested-With": "XMLHttpRequest",
            "X-CSRFTOKEN": self.csrf,
            "Content-Type": "text/plain;charset=UTF-8",
            "Referer": self.base + "/",
        }
        resp = await self.http.post(
            f"{self.base}/unicorn/message/{self.name}", content=body, headers=headers
        )
        resp.raise_for_status()
        raw = resp.content
        out = json.loads(raw)
        self.data = out.get("data", self.data)
        self.checksum, self.hash = [*out["meta"].split(":"), ""][:2]
        return len(body), len(raw), out


class ClientProc:
    """One ``--client`` subprocess of a benchmark script, driven by JSON lines on its stdin and
    answering on its stdout; it exits when its stdin closes."""

    def __init__(self, script: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, script, "--client"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def send(self, **cmd: Any) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()

    def answer(self, timeout: float) -> dict[str, Any]:
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        line = self.proc.stdout.readline() if ready else ""
        if not line:
            raise RuntimeError(f"client process gave no answer within {timeout}s")
        out: dict[str, Any] = json.loads(line)
        if "error" in out:
            raise RuntimeError(f"client process: {out['error']}")
        return out

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            if self.proc.stdin is not None:
                self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def all_answer(procs: list[ClientProc], wait_s: float, **cmd: Any) -> list[dict[str, Any]]:
    for proc in procs:
        proc.send(**cmd)
    return [proc.answer(wait_s) for proc in procs]


def split(n: int, parts: int) -> list[int]:
    """``n`` as ``parts`` near-equal shares."""
    return [n // parts + (1 if i < n % parts else 0) for i in range(parts)]


# --------------------------------------------------------------------------- triggers


def environment() -> dict[str, Any]:
    """Where a run was measured: the commit, Python, the platform and the CPU count."""
    return {
        "git": git_revision(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
    }


def run_and_report(
    run: Callable[[], dict[str, Any]],
    json_path: Path,
    print_report: Callable[[dict[str, Any]], None],
    *,
    stopped: str = "servers stopped",
) -> dict[str, Any]:
    """Run a benchmark with SIGTERM turned into cleanup, save its JSON, print its report."""
    exit_on_sigterm()
    try:
        report = run()
    except KeyboardInterrupt:
        sys.exit(f"interrupted; {stopped}")
    json_path.parent.mkdir(parents=True, exist_ok=True)
    report["json_path"] = str(json_path)
    json_path.write_text(json.dumps(report, indent=2) + "\n")
    print_report(report)
    return report
