"""Round-trip benchmark: a livepy counter click against a bare WebSocket echo.

Run from the repository root::

    .venv/bin/python benchmarks/roundtrip.py [--clicks 2000] [--rounds 5]

Two uvicorn servers run as subprocesses of this script, on 127.0.0.1 only, with the same
settings (``ws="websockets-sansio"``):

* **livepy** serves ``examples.counter.app:app``. The client GETs ``/``, reads the counter's
  ``lp-id`` and ``lp-snapshot``, joins it over ``/livepy/ws`` and then clicks ``increment``
  N times, waiting for each reply.
* **baseline** is a bare Starlette WebSocket endpoint that answers every message with a
  precomputed payload as large as livepy's reply; the client sends messages as large as
  livepy's CALL frame. It is what the same socket stack costs with no framework work.

Latency is taken on the client with ``time.perf_counter_ns`` from just before the frame is
sent to just after the reply has arrived; encoding and decoding happen outside that window.
Rounds alternate between the two (ABBA order) after an untimed warmup round of each, so
machine noise hits both. Results are printed and written to ``benchmarks/results/roundtrip.json``.

The client turns permessage-deflate off, so the byte counts are the actual message payloads.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.metadata
import json
import os
import platform
import re
import select
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results" / "roundtrip.json"
SECRET_KEY = "livepy-benchmark-secret-key-not-for-production"
HOST = "127.0.0.1"
STARTUP_TIMEOUT = 20.0


def _have(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return False
    return True


# Identical uvicorn settings for both servers; loop and http are pinned so the report can say
# which implementation ran instead of "auto".
UVICORN_SETTINGS: dict[str, Any] = {
    "ws": "websockets-sansio",
    "loop": "uvloop" if _have("uvloop") else "asyncio",
    "http": "httptools" if _have("httptools") else "h11",
    "log_level": "warning",
    "access_log": False,
    "lifespan": "auto",
    "timeout_graceful_shutdown": 2,
}


# --------------------------------------------------------------------------- servers


def _echo_app(reply_bytes: int) -> Any:
    from starlette.applications import Starlette
    from starlette.routing import WebSocketRoute
    from starlette.websockets import WebSocket

    payload = bytes(i % 251 for i in range(reply_bytes))

    async def echo(websocket: WebSocket) -> None:
        # The same receive loop as livepy's transport pump, minus the session.
        await websocket.accept()
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            await websocket.send_bytes(payload)

    return Starlette(routes=[WebSocketRoute("/ws", echo)])


def _exit_when_parent_goes() -> None:
    """The parent holds our stdin open; EOF means it is gone, so never outlive it."""
    with contextlib.suppress(Exception):
        sys.stdin.buffer.read()
    os._exit(0)


def serve(kind: str, reply_bytes: int) -> None:
    """Child process: bind a free port, print it, run uvicorn until terminated."""
    import uvicorn

    threading.Thread(target=_exit_when_parent_goes, daemon=True).start()
    if kind == "livepy":
        from uvicorn.importer import import_from_string

        app = import_from_string("examples.counter.app:app")
    else:
        app = _echo_app(reply_bytes)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, 0))
    port = sock.getsockname()[1]
    print(port, flush=True)
    os.dup2(2, 1)  # nothing else goes down the pipe the parent stopped reading
    config = uvicorn.Config(app, host=HOST, port=port, **UVICORN_SETTINGS)
    uvicorn.Server(config).run(sockets=[sock])


class Server:
    """One server subprocess; always stop() it (it also dies if this process does)."""

    def __init__(self, kind: str, reply_bytes: int = 0) -> None:
        self.kind = kind
        env = dict(os.environ)
        env["LIVEPY_SECRET_KEY"] = SECRET_KEY
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        cmd = [sys.executable, str(Path(__file__).resolve()), "--serve", kind]
        cmd += ["--reply-bytes", str(reply_bytes)]
        self.proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        self.port = 0

    def wait_ready(self) -> int:
        assert self.proc.stdout is not None
        deadline = time.monotonic() + STARTUP_TIMEOUT
        ready, _, _ = select.select([self.proc.stdout], [], [], STARTUP_TIMEOUT)
        line = self.proc.stdout.readline() if ready else b""
        if not line.strip().isdigit():
            raise RuntimeError(f"{self.kind} server did not report its port (exit {self.poll()})")
        self.port = int(line)
        while time.monotonic() < deadline:  # the socket listens once uvicorn has started
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.kind} server exited with {self.proc.returncode}")
            try:
                socket.create_connection((HOST, self.port), timeout=0.5).close()
                return self.port
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"{self.kind} server did not start within {STARTUP_TIMEOUT}s")

    def poll(self) -> int | None:
        return self.proc.poll()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()


# --------------------------------------------------------------------------- client


@dataclass
class RoundResult:
    latencies_ns: list[int] = field(default_factory=list)
    bytes_out: list[int] = field(default_factory=list)
    bytes_in: list[int] = field(default_factory=list)
    html_bytes: list[int] = field(default_factory=list)
    snapshot_bytes: list[int] = field(default_factory=list)


_ROOT_TAG = re.compile(r"<[^>]*\blp-id=\"([^\"]+)\"[^>]*>")
_SNAPSHOT = re.compile(r"\blp-snapshot=\"([^\"]+)\"")


def _connect(url: str) -> Any:
    from websockets.asyncio.client import connect

    # No compression: byte counts are the real payloads. No keepalive pings during a round.
    return connect(url, compression=None, ping_interval=None, max_size=None, open_timeout=10)


async def livepy_round(port: int, clicks: int) -> RoundResult:
    import httpx

    from livepy.protocol import Call, Join, JoinItem, Reply, b64decode
    from livepy.protocol.frames import decode_server_frame, encode

    async with httpx.AsyncClient() as http:
        page = await http.get(f"http://{HOST}:{port}/")
    page.raise_for_status()
    tag = _ROOT_TAG.search(page.text)
    snap_match = _SNAPSHOT.search(tag.group(0)) if tag else None
    if tag is None or snap_match is None:
        raise RuntimeError("no component root with lp-id and lp-snapshot on the page")
    cid, snapshot = tag.group(1), b64decode(snap_match.group(1))

    result = RoundResult()
    perf = time.perf_counter_ns
    async with _connect(f"ws://{HOST}:{port}/livepy/ws") as ws:
        await ws.send(encode(Join((JoinItem(cid, snapshot),))))
        joined = decode_server_frame(await ws.recv())
        if not isinstance(joined, Reply) or joined.cid != cid:
            raise RuntimeError(f"join failed: {joined!r}")
        last: Reply | None = None
        for seq in range(1, clicks + 1):
            frame = encode(Call(cid, seq, {}, (("increment", ()),)))
            t0 = perf()
            await ws.send(frame)
            data = await ws.recv()
            t1 = perf()
            result.latencies_ns.append(t1 - t0)
            result.bytes_out.append(len(frame))
            result.bytes_in.append(len(data))
            reply = decode_server_frame(data)  # type: ignore[arg-type]
            if not isinstance(reply, Reply) or reply.seq != seq or reply.html is None:
                raise RuntimeError(f"click {seq}: unexpected reply {reply!r}")
            result.html_bytes.append(len(reply.html.encode()))
            result.snapshot_bytes.append(len(reply.snapshot))
            last = reply
    expected = f">{3 + clicks}<"  # the example mounts with start=3
    if last is None or expected not in last.html.replace(" ", "").replace("\n", ""):
        raise RuntimeError(f"counter did not reach {3 + clicks}: {last!r}")
    return result


async def baseline_round(port: int, clicks: int, call_bytes: int, reply_bytes: int) -> RoundResult:
    frame = bytes(i % 253 for i in range(call_bytes))
    result = RoundResult()
    perf = time.perf_counter_ns
    async with _connect(f"ws://{HOST}:{port}/ws") as ws:
        for i in range(clicks):
            t0 = perf()
            await ws.send(frame)
            data = await ws.recv()
            t1 = perf()
            result.latencies_ns.append(t1 - t0)
            result.bytes_out.append(len(frame))
            result.bytes_in.append(len(data))
            if len(data) != reply_bytes:
                raise RuntimeError(f"echo {i}: got {len(data)} bytes, want {reply_bytes}")
    return result


async def timed(coro: Any, clicks: int) -> Any:
    """Run one round with a deadline so a stuck server cannot hang the benchmark."""
    async with asyncio.timeout(30 + clicks * 0.01):
        return await coro


# --------------------------------------------------------------------------- statistics


def percentile(values: list[float], p: float) -> float:
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


def summarize(rounds: list[RoundResult]) -> dict[str, Any]:
    lat_us = [ns / 1000 for r in rounds for ns in r.latencies_ns]
    out = [b for r in rounds for b in r.bytes_out]
    inn = [b for r in rounds for b in r.bytes_in]
    out_med, in_med = int(statistics.median(out)), int(statistics.median(inn))
    return {
        "clicks": len(lat_us),
        "p50_us": percentile(lat_us, 50),
        "p90_us": percentile(lat_us, 90),
        "p99_us": percentile(lat_us, 99),
        "mean_us": statistics.fmean(lat_us),
        "min_us": min(lat_us),
        "max_us": max(lat_us),
        "per_round_p50_us": [percentile([n / 1000 for n in r.latencies_ns], 50) for r in rounds],
        "per_round_p99_us": [percentile([n / 1000 for n in r.latencies_ns], 99) for r in rounds],
        "bytes_out": {"median": out_med, "min": min(out), "max": max(out)},
        "bytes_in": {"median": in_med, "min": min(inn), "max": max(inn)},
        "ws_header_out": ws_header(out_med, masked=True),
        "ws_header_in": ws_header(in_med, masked=False),
    }


def breakdown(rounds: list[RoundResult], reply_median: int) -> dict[str, int]:
    html = int(statistics.median(b for r in rounds for b in r.html_bytes))
    snap = int(statistics.median(b for r in rounds for b in r.snapshot_bytes))
    return {
        "reply_bytes": reply_median,
        "html_bytes": html,
        "snapshot_bytes": snap,
        "framing_bytes": reply_median - html - snap,
    }


def print_report(report: dict[str, Any]) -> None:
    lp, bl, ratio = report["livepy"], report["baseline"], report["ratio"]
    cfg = report["config"]
    print()
    print(
        f"livepy counter click vs bare WebSocket echo: {cfg['clicks']} clicks x {cfg['rounds']} "
        f"rounds each, interleaved, after 1 warmup round each"
    )
    print(
        f"uvicorn {cfg['versions']['uvicorn']} ws={cfg['uvicorn']['ws']} "
        f"loop={cfg['uvicorn']['loop']} http={cfg['uvicorn']['http']}; "
        f"client websockets {cfg['versions']['websockets']} (asyncio), no compression; "
        f"Python {cfg['python']}, {cfg['cpus']} CPUs"
    )
    print()
    rows: list[tuple[str, ...]] = [("", "livepy", "baseline", "livepy/baseline", "difference")]
    for key in ("p50_us", "p99_us", "p90_us", "mean_us", "min_us"):
        label = f"{key.removesuffix('_us')} (us)"
        r = ratio[key] if key in ratio else lp[key] / bl[key]
        diff = f"+{lp[key] - bl[key]:.1f} us"
        rows.append((label, f"{lp[key]:.1f}", f"{bl[key]:.1f}", f"{r:.2f}x", diff))

    def spread(v: list[float]) -> str:
        return f"{min(v):.0f}-{max(v):.0f}"

    for pct in ("p50", "p99"):
        key = f"per_round_{pct}_us"
        rows.append((f"{pct} range over rounds", spread(lp[key]), spread(bl[key]), "", ""))

    def size(s: dict[str, int]) -> str:
        if s["min"] == s["max"]:
            return str(s["median"])
        return f"{s['median']} ({s['min']}-{s['max']})"

    rows.append(("bytes out/click (msg payload)", size(lp["bytes_out"]), size(bl["bytes_out"])))
    rows.append(("bytes in/click (msg payload)", size(lp["bytes_in"]), size(bl["bytes_in"])))
    rows.append(
        ("  + WS header out (masked)", f"+{lp['ws_header_out']}", f"+{bl['ws_header_out']}")
    )
    rows.append(("  + WS header in", f"+{lp['ws_header_in']}", f"+{bl['ws_header_in']}"))
    rows = [row + ("",) * (5 - len(row)) for row in rows]
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    for i, row in enumerate(rows):
        cells = [f"{row[0]:<{widths[0]}}"] + [
            f"{c:>{w}}" for c, w in zip(row[1:], widths[1:], strict=True)
        ]
        print("  ".join(cells).rstrip())
        if i == 0:
            print("-" * (sum(widths) + 2 * (len(widths) - 1)))
    b = report["livepy_reply_breakdown"]
    print()
    print(
        f"livepy reply ({b['reply_bytes']} B msgpack): html {b['html_bytes']} B, "
        f"snapshot {b['snapshot_bytes']} B, framing {b['framing_bytes']} B "
        f"(frame type, cid, seq, msgpack headers, effects=nil)"
    )
    print(
        "Byte counts are WebSocket message payloads (medians, range in brackets: seq and count "
        "grow). WS headers: 2 B up to 125 B payload, 4 B up to 64 KiB, 10 B beyond; "
        "client->server frames add a 4 B mask. TCP/IP headers not counted."
    )
    print(f"JSON: {report['json_path']}")


# --------------------------------------------------------------------------- main


def run(clicks: int, rounds: int) -> dict[str, Any]:
    started = time.monotonic()
    servers: list[Server] = []
    try:
        live_server = Server("livepy")
        servers.append(live_server)
        live_port = live_server.wait_ready()

        # Warmup round of livepy; it also fixes the sizes the baseline mirrors.
        warm = asyncio.run(timed(livepy_round(live_port, clicks), clicks))
        call_bytes = int(statistics.median(warm.bytes_out))
        reply_bytes = int(statistics.median(warm.bytes_in))

        echo_server = Server("echo", reply_bytes)
        servers.append(echo_server)
        echo_port = echo_server.wait_ready()

        def baseline() -> Any:
            return baseline_round(echo_port, clicks, call_bytes, reply_bytes)

        async def interleaved() -> tuple[list[RoundResult], list[RoundResult]]:
            await timed(baseline(), clicks)  # warmup
            lp_rounds: list[RoundResult] = []
            bl_rounds: list[RoundResult] = []
            for r in range(rounds):
                order = ("livepy", "baseline") if r % 2 == 0 else ("baseline", "livepy")
                for which in order:
                    if which == "livepy":
                        lp_rounds.append(await timed(livepy_round(live_port, clicks), clicks))
                    else:
                        bl_rounds.append(await timed(baseline(), clicks))
                print(f"  round {r + 1}/{rounds} done", file=sys.stderr, flush=True)
            return lp_rounds, bl_rounds

        lp_rounds, bl_rounds = asyncio.run(interleaved())
    finally:
        for server in servers:
            server.stop()

    lp, bl = summarize(lp_rounds), summarize(bl_rounds)
    return {
        "config": {
            "clicks": clicks,
            "rounds": rounds,
            "warmup_rounds": 1,
            "host": HOST,
            "uvicorn": {k: v for k, v in UVICORN_SETTINGS.items() if k in ("ws", "loop", "http")},
            "client": "websockets.asyncio.client, compression=None, ping_interval=None",
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "versions": {
                name: importlib.metadata.version(name)
                for name in ("uvicorn", "starlette", "websockets", "msgpack", "livepy")
            },
            "baseline_call_bytes": call_bytes,
            "baseline_reply_bytes": reply_bytes,
        },
        "livepy": lp,
        "baseline": bl,
        "ratio": {
            "p50_us": lp["p50_us"] / bl["p50_us"],
            "p99_us": lp["p99_us"] / bl["p99_us"],
        },
        "difference_us": {
            "p50_us": lp["p50_us"] - bl["p50_us"],
            "p99_us": lp["p99_us"] - bl["p99_us"],
        },
        "livepy_reply_breakdown": breakdown(lp_rounds, lp["bytes_in"]["median"]),
        "elapsed_s": round(time.monotonic() - started, 2),
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clicks", type=int, default=2000, help="clicks per round (2000)")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds per side (5)")
    parser.add_argument("--json", type=Path, default=RESULTS, help=f"output ({RESULTS})")
    parser.add_argument("--serve", choices=("livepy", "echo"), help=argparse.SUPPRESS)
    parser.add_argument("--reply-bytes", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.reply_bytes)
        return
    if args.clicks < 1 or args.rounds < 1:
        parser.error("--clicks and --rounds must be at least 1")

    def on_term(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)  # unwind through the finally that stops the servers

    signal.signal(signal.SIGTERM, on_term)
    try:
        report = run(args.clicks, args.rounds)
    except KeyboardInterrupt:
        sys.exit("interrupted; servers stopped")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    report["json_path"] = str(args.json)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print_report(report)


if __name__ == "__main__":
    main()
