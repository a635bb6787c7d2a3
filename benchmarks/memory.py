"""Memory per connected client: livepy vs pyview-web vs a bare Starlette WebSocket server.

Run from the repository root::

    .venv/bin/python benchmarks/memory.py [--clients 1000] [--only livepy,pyview,bare]

Each server runs alone, as a subprocess on 127.0.0.1 (``benchmarks/_serve.py``: the same
uvicorn settings for all), one after the other:

* **livepy**: ``examples.counter.app``. The page is fetched once; every client opens its own
  WebSocket and JOINs its own copy of that counter's snapshot (protocol v2), so the server
  holds one live ``Counter`` instance per connection. Clients answer the server's PINGs.
* **pyview**: pyview-web's counter (``benchmarks/apps/pyview_counter``): the page is fetched
  once; every client opens its own WebSocket and sends ``phx_join``, so the server mounts one
  ``CountLiveView`` per connection.
* **bare**: a Starlette WebSocket endpoint that echoes; every client sends one message and
  reads the reply. It is the floor: uvicorn + websockets + Starlette per connection.

The server's memory is read from ``/proc/PID/status`` (VmRSS) and ``/proc/PID/smaps_rollup``
(Pss) after a few warmup connections have come and gone (0 clients), then at 1/4, 1/2, 3/4 and
all of ``--clients`` connected and joined. "per client" is the least-squares slope of memory over
the number of clients (KiB, as /proc reports them); (memory at N - memory at 0) / N is shown
too. Every client must still be connected when memory is read. Clients connect 50 at a time.
Results go to ``benchmarks/results/memory.json``.

Where does it go? ``BENCH_TRACEMALLOC=/tmp/trace ... memory.py --only livepy`` runs the server
under tracemalloc and prints the allocation sites that grew most per client (tracemalloc's own
overhead inflates RSS in that mode: use it to compare sites, not for the figure).
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import os
import resource
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from _common import (
    RESULTS,
    LiveComponent,
    Server,
    compact_json,
    deadline,
    echo_server,
    environment,
    live_page,
    livepy_server,
    phx_page,
    print_table,
    run_and_report,
    ws_connect,
)

BATCH = 50
WARMUP = 5
SETTLE_S = 1.0
TARGETS_KIB = {"livepy": 40}
EXPECTED = {"pyview": "~81 kB (research, 200 clients)", "bare": "~25 kB"}


def read_memory(pid: int) -> dict[str, int]:
    """VmRSS and Pss of a process, in KiB."""
    out: dict[str, int] = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(("VmRSS:", "VmHWM:")):
                out[line.split(":")[0].lower()] = int(line.split()[1])
    with open(f"/proc/{pid}/smaps_rollup") as rollup:
        for line in rollup:
            if line.startswith("Pss:"):
                out["pss"] = int(line.split()[1])
    return out


class Clients:
    """Open client connections of one kind, each kept alive until close()."""

    def __init__(self) -> None:
        self.sockets: list[Any] = []
        self.readers: list[asyncio.Task[None]] = []

    def closed(self) -> int:
        from websockets.protocol import State

        return sum(ws.protocol.state is not State.OPEN for ws in self.sockets)

    async def close(self) -> None:
        for task in self.readers:
            task.cancel()
        for i in range(0, len(self.sockets), BATCH):
            batch = self.sockets[i : i + BATCH]
            await asyncio.gather(*(ws.close() for ws in batch), return_exceptions=True)
        self.sockets.clear()
        self.readers.clear()


async def _answer_pings(ws: Any) -> None:
    """livepy's server PINGs idle sockets; answer like the JS runtime does."""
    from livepy.protocol import Ping, Pong, decode_server_frame, encode

    pong = encode(Pong())
    try:
        async for data in ws:
            if isinstance(data, bytes) and isinstance(decode_server_frame(data), Ping):
                await ws.send(pong)
    except Exception:  # the socket closed; close() reports it through closed()
        return


Opener = Callable[[Clients], Awaitable[None]]


async def livepy_opener(server: Server) -> Opener:
    from livepy.protocol import Join, Joined, JoinItem, decode_server_frame, encode

    (comp,) = await live_page(server, "/")
    url = server.ws_base + "/livepy/ws"

    async def open_one(clients: Clients) -> None:
        mine = LiveComponent.from_snapshot(copy.deepcopy(comp.snapshot()))
        ws = await ws_connect(url)
        clients.sockets.append(ws)
        await ws.send(encode(Join((JoinItem(mine.cid, mine.snapshot()),))))
        joined = decode_server_frame(await ws.recv())
        if not isinstance(joined, Joined):
            raise RuntimeError(f"livepy join failed: {joined!r}")
        clients.readers.append(asyncio.create_task(_answer_pings(ws)))

    return open_one


async def pyview_opener(server: Server) -> Opener:
    from urllib.parse import quote

    page = await phx_page(server, "/count")
    url = f"{server.ws_base}/live/websocket?_csrf_token={quote(page.csrf)}&vsn=2.0.0"
    join = compact_json(
        [
            "4",
            "4",
            page.topic,
            "phx_join",
            {
                "url": page.url,
                "params": {"_csrf_token": page.csrf, "_mounts": 0},
                "session": page.session,
                "static": page.static,
                "flash": None,
            },
        ]
    )

    async def open_one(clients: Clients) -> None:
        ws = await ws_connect(url)
        clients.sockets.append(ws)
        await ws.send(join)
        reply = json.loads(await ws.recv())
        if reply[3] != "phx_reply" or reply[4].get("status") != "ok":
            raise RuntimeError(f"pyview join failed: {reply!r}")

    return open_one


async def bare_opener(server: Server) -> Opener:
    url = server.ws_base + "/ws"

    async def open_one(clients: Clients) -> None:
        ws = await ws_connect(url)
        clients.sockets.append(ws)
        await ws.send(b"hello")
        await ws.recv()

    return open_one


def _slope(points: list[tuple[int, int]]) -> float:
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / sxx


TRACE = os.environ.get("BENCH_TRACEMALLOC", "")


async def _dump_allocations(server: Server, index: int) -> None:
    """With BENCH_TRACEMALLOC=PREFIX the server dumps a tracemalloc snapshot on SIGUSR1."""
    import signal

    path = f"{TRACE}.{index}.snapshot"

    def size() -> int:
        return os.stat(path).st_size if os.path.exists(path) else 0

    if await asyncio.to_thread(size):
        await asyncio.to_thread(os.remove, path)
    os.kill(server.pid, signal.SIGUSR1)
    for _ in range(200):  # bounded: 20 s
        await asyncio.sleep(0.1)
        if await asyncio.to_thread(size):
            await asyncio.sleep(0.5)  # let the dump finish
            return
    raise RuntimeError(f"{server.name} wrote no tracemalloc snapshot to {path}")


def _short_path(filename: str) -> str:
    for marker in ("site-packages/", "/work/main/", "/lib/python3.11/"):
        if marker in filename:
            return filename.split(marker)[-1]
    return filename


def print_allocations(n: int, top: int = 12) -> None:
    """Where the per-client memory was allocated, between the 0 and N snapshots."""
    import tracemalloc
    from collections import Counter

    before = tracemalloc.Snapshot.load(f"{TRACE}.0.snapshot")
    after = tracemalloc.Snapshot.load(f"{TRACE}.1.snapshot")
    stats = after.compare_to(before, "traceback")
    total = sum(s.size_diff for s in stats)
    print()
    print(f"tracemalloc: {total / n / 1024:.1f} KiB per client allocated by Python objects")
    by_site: Counter[str] = Counter()
    by_caller: Counter[str] = Counter()
    for stat in stats:
        site = stat.traceback[-1]  # the most recent frame: where the allocation happened
        by_site[f"{_short_path(site.filename)}:{site.lineno}"] += stat.size_diff
        ours = [f for f in stat.traceback if "/livepy/" in f.filename]
        caller = ours[-1] if ours else None
        key = f"{_short_path(caller.filename)}:{caller.lineno}" if caller else "(no livepy frame)"
        by_caller[key] += stat.size_diff
    for title, counter in (("allocation sites", by_site), ("innermost livepy frame", by_caller)):
        print(f"  by {title}:")
        for key, size in counter.most_common(top):
            print(f"    {size / n:8.0f} B/client  {key}")


MakeOpener = Callable[[Server], Awaitable[Opener]]


async def measure(server: Server, make_opener: MakeOpener, n: int, warmup: int) -> Any:
    open_one = await make_opener(server)
    warm = Clients()
    for _ in range(warmup):
        await open_one(warm)
    await warm.close()
    await asyncio.sleep(SETTLE_S)
    checkpoints = sorted({0, n // 4, n // 2, 3 * n // 4, n})
    clients = Clients()
    samples = []
    try:
        for target in checkpoints:
            while len(clients.sockets) < target:
                batch = min(BATCH, target - len(clients.sockets))
                await asyncio.gather(*(open_one(clients) for _ in range(batch)))
            await asyncio.sleep(SETTLE_S)
            closed = clients.closed()
            if closed:
                raise RuntimeError(f"{server.name}: {closed} of {target} clients were closed")
            samples.append({"clients": target, **read_memory(server.pid)})
            if TRACE and target in (0, n):
                await _dump_allocations(server, 0 if target == 0 else 1)
            print(f"  {server.name}: {target} clients, {samples[-1]}", file=sys.stderr, flush=True)
    finally:
        await clients.close()
    result: dict[str, Any] = {"samples": samples, "server": server.info}
    for key in ("vmrss", "pss"):
        points = [(s["clients"], s[key]) for s in samples]
        result[f"{key}_0_kib"] = samples[0][key]
        result[f"{key}_n_kib"] = samples[-1][key]
        result[f"{key}_per_client_kib"] = _slope(points)
        result[f"{key}_total_over_n_kib"] = (samples[-1][key] - samples[0][key]) / n
    return result


def run(n: int, which: list[str], warmup: int = WARMUP) -> dict[str, Any]:
    started = time.monotonic()
    report: dict[str, Any] = {"results": {}}
    limit = 120 + n * 0.2
    for name in which:
        if name == "livepy":
            server, opener = livepy_server("livepy", "examples.counter.app:app"), livepy_opener
        elif name == "pyview":
            from peers import PYVIEW, installed_versions, peer_server

            server, opener = peer_server(PYVIEW), pyview_opener
            report["pyview_version"] = installed_versions(PYVIEW, ("pyview-web",))["pyview-web"]
        else:
            server, opener = echo_server(16), bare_opener
        with server:
            result = asyncio.run(deadline(measure(server, opener, n, warmup), limit))
            report["results"][name] = result
    report["config"] = {
        "clients": n,
        **environment(),
        "batch": BATCH,
        "warmup_clients": warmup,
        "settle_s": SETTLE_S,
    }
    report["elapsed_s"] = round(time.monotonic() - started, 2)
    report["timestamp"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    return report


def print_report(report: dict[str, Any]) -> None:
    cfg, res = report["config"], report["results"]
    print()
    print(
        f"Server memory per connected client, {cfg['clients']} clients each joined to one counter "
        f"(bare: one echo). Python {cfg['python']}, {cfg['cpus']} CPUs, livepy at {cfg['git']}. "
        "KiB = 1024 B."
    )
    print()
    rows: list[tuple[str, ...]] = [
        (
            "server",
            "RSS 0 (MiB)",
            "RSS N (MiB)",
            "RSS/client",
            "(N-0)/N",
            "Pss/client",
            "target / research",
        )
    ]
    labels = {
        "livepy": "livepy (examples/counter)",
        "pyview": f"pyview-web {report.get('pyview_version', '')} counter",
        "bare": "bare Starlette WebSocket",
    }
    for name, r in res.items():
        target = f"< {TARGETS_KIB[name]} KiB" if name in TARGETS_KIB else EXPECTED.get(name, "")
        rows.append(
            (
                labels[name],
                f"{r['vmrss_0_kib'] / 1024:.1f}",
                f"{r['vmrss_n_kib'] / 1024:.1f}",
                f"{r['vmrss_per_client_kib']:.1f} KiB",
                f"{r['vmrss_total_over_n_kib']:.1f} KiB",
                f"{r['pss_per_client_kib']:.1f} KiB",
                target,
            )
        )
    print_table(rows)
    if "bare" in res:
        bare = res["bare"]["vmrss_per_client_kib"]
        print()
        for name in ("livepy", "pyview"):
            if name in res:
                extra = res[name]["vmrss_per_client_kib"] - bare
                print(f"{labels[name]}: {extra:+.1f} KiB per client above the bare socket")
    print(f"JSON: {report['json_path']}  ({report['elapsed_s']} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=1000, help="connected clients (1000)")
    parser.add_argument(
        "--only", default="livepy,pyview,bare", help="servers to measure (livepy,pyview,bare)"
    )
    parser.add_argument(
        "--warmup",
        type=int,
        default=WARMUP,
        help=f"clients that connect and leave before the 0-client reading ({WARMUP})",
    )
    parser.add_argument(
        "--json", type=Path, default=RESULTS / "memory.json", help="output (results/memory.json)"
    )
    args = parser.parse_args()
    which = [w.strip() for w in args.only.split(",") if w.strip()]
    if not 4 <= args.clients <= 5000:
        parser.error("--clients must be 4..5000")
    if not 0 <= args.warmup <= 100:
        parser.error("--warmup must be 0..100")
    if not which or set(which) - {"livepy", "pyview", "bare"}:
        parser.error("--only takes livepy, pyview and/or bare")
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard < args.clients + 100:
        parser.error(f"the open-files limit ({hard}) is too low for {args.clients} clients")
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    run_and_report(lambda: run(args.clients, which, args.warmup), args.json, print_report)
    if TRACE and len(which) == 1:
        print_allocations(args.clients)


if __name__ == "__main__":
    main()
