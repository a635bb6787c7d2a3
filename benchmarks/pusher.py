"""livepy's Pusher endpoint vs a bare ``websockets`` server: idle memory and fan-out.

Run from the repository root::

    .venv/bin/python benchmarks/pusher.py [--counts 1000,5000] [--events 20] [--client-procs 2]
        [--only livepy,lean,starlette,bare]

Four servers, each alone, one after the other, as subprocesses on 127.0.0.1:

* **livepy**: ``benchmarks/apps/pusher_bench.py`` under ``_serve.py`` (uvicorn, the same
  settings as the other benchmarks: ``ws="websockets-sansio"``, so Pusher sockets go through
  ASGI). Pusher app key ``bench-key`` at ``/app/bench-key``; ``POST /bench/fire?n=N`` runs
  ``await live.broadcast("bench", "Tick", {...})`` N times.
* **lean**: the same app with uvicorn's ``ws=livepy.pusher.lean:PusherWebSocketProtocol``
  (what ``livepy serve`` uses): Pusher sockets served by livepy's callback-driven protocol.
* **bare**: ``benchmarks/apps/bare_websockets.py``: ``websockets.asyncio.server.serve`` that
  answers the same frames (connection_established, subscription_succeeded, pong) and, when a
  ``/control`` connection sends ``fire:N``, ``broadcast()``s the byte-identical event frames.
* **starlette**: ``benchmarks/apps/starlette_pusher_floor.py``: the bare server's frames as a
  Starlette WebSocket endpoint under ``_serve.py`` (livepy's ASGI stack without livepy), with an
  HTTP ``/bench/fire`` that ``await``s ``send_text`` per socket. It shows how much of the gap to
  bare is uvicorn + Starlette and how much is livepy's Pusher layer.

Clients live in ``--client-procs`` separate processes (this script with ``--client``), each
holding its share of the connections as ``websockets`` client connections, each with a task that
reads (and answers ``pusher:ping``). Every client connects, reads
``pusher:connection_established``, subscribes to the public channel ``bench``, reads
``pusher_internal:subscription_succeeded``, then idles.

1. **Memory**: 20 warmup clients connect and leave; the server's VmRSS (``/proc/PID/status``)
   is read at 0 clients and at every ``--counts`` step (all clients still connected, 1 s
   settle). KiB per connection is the least-squares slope over those readings.
2. **Fan-out** at the largest count: each client records, per event, when it received it
   (``time.monotonic()``: CLOCK_MONOTONIC is system-wide, so comparable between processes).
   "single" is the time from just before the trigger to the last subscriber receiving one event
   (median of 3); "burst" triggers ``--events`` events at once and reports the time to the last
   delivery of the last event and deliveries per second (subscribers x events / that time).
   livepy's and starlette's trigger is an HTTP POST to the app; bare's a message on a
   WebSocket already open. Client processes share the machine's CPUs with the server, so the
   figures include the clients' receive cost (the same for every server).

Results go to ``benchmarks/results/pusher.json``. Every wait has a timeout and the server and
client processes are stopped on exit.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
import re
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import _common  # noqa: E402
from _common import (  # noqa: E402
    APPS,
    HOST,
    RESULTS,
    ClientProc,
    Server,
    all_answer,
    environment,
    livepy_server,
    print_table,
    run_and_report,
    split,
)

KEY, CHANNEL, EVENT = "bench-key", "bench", "Tick"
WARMUP = 20
SETTLE_S = 1.0
CONNECT_BATCH = 100  # concurrent handshakes per client process
SINGLE_REPEATS = 3
WAIT_TIMEOUT = 60.0
TARGET_RATIO = 1.5
BARE_SCRIPT = APPS / "bare_websockets.py"
LEAN_WS = "livepy.pusher.lean:PusherWebSocketProtocol"
SERVERS = ("livepy", "lean", "starlette", "bare")


def read_rss(pid: int) -> int:
    """VmRSS of a process, in KiB."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def slope(points: list[tuple[int, int]]) -> float:
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / sxx


class BareServer(Server):
    """``bare_websockets.py`` run by ``Server``'s machinery (port report, stdin watch, stop)."""

    def start(self) -> Server:
        saved = _common.SERVE
        _common.SERVE = BARE_SCRIPT  # Server.start runs [python, SERVE, app]
        try:
            return super().start()
        finally:
            _common.SERVE = saved


# --------------------------------------------------------------------------- client process

_INDEX = re.compile(r'\\"i\\": (\d+)')


async def client_main() -> None:
    """``--client``: hold connections; commands and answers are JSON lines on stdin/stdout."""
    from websockets.asyncio.client import connect

    sockets: list[Any] = []
    readers: list[asyncio.Task[None]] = []
    subscribe = json.dumps({"event": "pusher:subscribe", "data": {"channel": CHANNEL}})
    pong = json.dumps({"event": "pusher:pong", "data": {}})
    counts: list[int] = []
    last: list[float] = []
    complete = asyncio.Event()  # every socket has every armed event

    async def read(ws: Any) -> None:
        with contextlib.suppress(Exception):
            async for message in ws:
                if message.startswith('{"event":"Tick"'):
                    now = time.monotonic()
                    found = _INDEX.search(message)
                    i = int(found.group(1)) if found else -1
                    if 0 <= i < len(counts):
                        counts[i] += 1
                        if now > last[i]:
                            last[i] = now
                        if counts[i] == len(sockets) and min(counts) == len(sockets):
                            complete.set()
                elif message.startswith('{"event":"pusher:ping"'):
                    await ws.send(pong)

    async def open_one(url: str) -> None:
        ws = await connect(
            url, compression=None, ping_interval=None, max_size=2**20, open_timeout=30
        )
        sockets.append(ws)
        established = json.loads(await ws.recv())
        if established.get("event") != "pusher:connection_established":
            raise RuntimeError(f"expected connection_established, got {established!r}")
        await ws.send(subscribe)
        succeeded = json.loads(await ws.recv())
        if succeeded.get("event") != "pusher_internal:subscription_succeeded":
            raise RuntimeError(f"expected subscription_succeeded, got {succeeded!r}")
        readers.append(asyncio.create_task(read(ws)))

    async def close_all() -> None:
        for task in readers:
            task.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
        async with asyncio.timeout(30):
            await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
        sockets.clear()
        readers.clear()

    def reply(obj: Any) -> None:
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()

    while True:
        line = await asyncio.to_thread(sys.stdin.readline)
        if not line:
            break
        cmd = json.loads(line)
        try:
            if cmd["cmd"] == "open":
                todo = cmd["n"]
                async with asyncio.timeout(cmd["timeout"]):
                    while todo > 0:
                        batch = min(CONNECT_BATCH, todo)
                        await asyncio.gather(*(open_one(cmd["url"]) for _ in range(batch)))
                        todo -= batch
                reply({"open": len(sockets)})
            elif cmd["cmd"] == "drop":
                await close_all()
                reply({"open": 0})
            elif cmd["cmd"] == "alive":
                reply({"alive": sum(1 for t in readers if not t.done())})
            elif cmd["cmd"] == "arm":
                complete.clear()
                counts[:] = [0] * cmd["events"]
                last[:] = [0.0] * cmd["events"]
                reply({"armed": cmd["events"]})
            elif cmd["cmd"] == "wait":
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(complete.wait(), cmd["timeout"])
                reply({"counts": counts, "last": last})
            elif cmd["cmd"] == "close":
                await close_all()
                reply({"closed": True})
                break
        except Exception as exc:  # report it to the parent, which stops the run
            reply({"error": f"{type(exc).__name__}: {exc}"})


# --------------------------------------------------------------------------- triggers


class HttpTrigger:
    def __init__(self, server: Server) -> None:
        self.port = server.port

    def fire(self, n: int) -> None:
        conn = http.client.HTTPConnection(HOST, self.port, timeout=WAIT_TIMEOUT)
        try:
            conn.request("POST", f"/bench/fire?n={n}")
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"/bench/fire answered {response.status}")
        finally:
            conn.close()

    def close(self) -> None:
        pass


class BareTrigger:
    def __init__(self, server: Server) -> None:
        from websockets.sync.client import connect

        self.stack = contextlib.ExitStack()
        self.ws = self.stack.enter_context(
            connect(f"ws://{HOST}:{server.port}/control", open_timeout=10)
        )

    def fire(self, n: int) -> None:
        self.ws.send(f"fire:{n}")
        if self.ws.recv(timeout=WAIT_TIMEOUT) != "done":
            raise RuntimeError("bare server did not answer done")

    def close(self) -> None:
        self.stack.close()


# --------------------------------------------------------------------------- measurement


def open_clients(procs: list[ClientProc], url: str, n: int) -> None:
    timeout = 30 + n * 0.02
    for proc, share in zip(procs, split(n, len(procs)), strict=True):
        proc.send(cmd="open", url=url, n=share, timeout=timeout)
    for proc in procs:
        proc.answer(timeout + 10)


def fan_out(procs: list[ClientProc], trigger: Any, events: int, subscribers: int) -> dict[str, Any]:
    all_answer(procs, 10, cmd="arm", events=events)
    t0 = time.monotonic()
    trigger.fire(events)
    fired = time.monotonic()
    answers = all_answer(procs, WAIT_TIMEOUT + 10, cmd="wait", events=events, timeout=WAIT_TIMEOUT)
    counts = [sum(a["counts"][i] for a in answers) for i in range(events)]
    last = [max(a["last"][i] for a in answers) for i in range(events)]
    delivered = sum(counts)
    if delivered < subscribers * events:
        raise RuntimeError(f"only {delivered} of {subscribers * events} deliveries arrived")
    t_last = max(last) - t0
    return {
        "events": events,
        "subscribers": subscribers,
        "deliveries": delivered,
        "first_event_to_last_s": last[0] - t0,
        "to_last_s": t_last,
        "trigger_returned_s": fired - t0,
        "deliveries_per_s": delivered / t_last,
    }


def measure(
    name: str, server: Server, url: str, counts: list[int], events: int, nprocs: int
) -> dict[str, Any]:
    procs: list[ClientProc] = []
    trigger: Any = None
    with server:
        try:
            procs = [ClientProc(__file__) for _ in range(nprocs)]
            open_clients(procs, url, WARMUP)
            all_answer(procs, 40, cmd="drop")
            time.sleep(SETTLE_S)
            samples = [{"clients": 0, "vmrss_kib": read_rss(server.pid)}]
            print(f"  {name}: 0 clients, {samples[-1]['vmrss_kib']} KiB", file=sys.stderr)
            held = 0
            for target in counts:
                open_clients(procs, url, target - held)
                held = target
                time.sleep(SETTLE_S)
                alive = sum(a["alive"] for a in all_answer(procs, 10, cmd="alive"))
                if alive != held:
                    raise RuntimeError(f"{name}: {held - alive} of {held} clients were closed")
                samples.append({"clients": target, "vmrss_kib": read_rss(server.pid)})
                print(
                    f"  {name}: {target} clients, {samples[-1]['vmrss_kib']} KiB",
                    file=sys.stderr,
                    flush=True,
                )
            trigger = BareTrigger(server) if name == "bare" else HttpTrigger(server)
            fan_out(procs, trigger, 1, held)  # warm the path once
            singles = [fan_out(procs, trigger, 1, held) for _ in range(SINGLE_REPEATS)]
            burst = fan_out(procs, trigger, events, held)
            print(
                f"  {name}: single {statistics.median(s['to_last_s'] for s in singles) * 1000:.1f}"
                f" ms, burst {burst['deliveries_per_s']:.0f} deliveries/s",
                file=sys.stderr,
                flush=True,
            )
            all_answer(procs, 60, cmd="close")
        finally:
            if trigger is not None:
                with contextlib.suppress(Exception):
                    trigger.close()
            for proc in procs:
                proc.stop()
    points = [(s["clients"], s["vmrss_kib"]) for s in samples]
    return {
        "server": server.info,
        "samples": samples,
        "vmrss_per_conn_kib": slope(points),
        "single_to_last_s": statistics.median(s["to_last_s"] for s in singles),
        "singles": singles,
        "burst": burst,
    }


def run(counts: list[int], events: int, nprocs: int, which: list[str]) -> dict[str, Any]:
    started = time.monotonic()
    results: dict[str, Any] = {}
    for name in which:
        if name in ("livepy", "lean"):
            server = livepy_server(name, "pusher_bench:app")
            if name == "lean":  # the same app, uvicorn's ws= being livepy's lean protocol
                server.env["BENCH_UVICORN_WS"] = LEAN_WS
            url = f"ws://{HOST}:{{port}}/app/{KEY}?protocol=7&client=bench&version=8.4.0"
        elif name == "starlette":
            server = livepy_server("starlette", "starlette_pusher_floor:app")
            url = f"ws://{HOST}:{{port}}/app/{KEY}"
        else:
            server = BareServer("bare", "bare")
            url = f"ws://{HOST}:{{port}}/app/{KEY}"
        server.start()  # the port is needed for the url; measure() stops it
        results[name] = measure(name, server, url.format(port=server.port), counts, events, nprocs)
    report: dict[str, Any] = {"results": results}
    pairs = (
        ("livepy", "bare", "ratios"),
        ("livepy", "starlette", "ratios_vs_starlette"),
        ("lean", "bare", "lean_ratios"),
    )
    for ours, floor, key in pairs:
        if ours in results and floor in results:
            lp, other = results[ours], results[floor]
            report[key] = {  # ours / floor
                "vmrss_per_conn": lp["vmrss_per_conn_kib"] / other["vmrss_per_conn_kib"],
                "single_to_last": lp["single_to_last_s"] / other["single_to_last_s"],
                "burst_to_last": lp["burst"]["to_last_s"] / other["burst"]["to_last_s"],
                "burst_deliveries_per_s": lp["burst"]["deliveries_per_s"]
                / other["burst"]["deliveries_per_s"],
            }
    report["config"] = {
        "counts": counts,
        "events": events,
        "client_procs": nprocs,
        "warmup_clients": WARMUP,
        "settle_s": SETTLE_S,
        **environment(),
    }
    report["elapsed_s"] = round(time.monotonic() - started, 2)
    report["timestamp"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    return report


def print_report(report: dict[str, Any]) -> None:
    cfg, res = report["config"], report["results"]
    labels = {
        "livepy": "livepy /app/{key} (ASGI)",
        "lean": "livepy /app/{key} (lean protocol)",
        "starlette": "uvicorn+Starlette floor",
        "bare": "bare websockets",
    }
    print()
    print(
        f"Pusher endpoint: idle subscribed connections and fan-out. Python {cfg['python']}, "
        f"{cfg['cpus']} CPUs, {cfg['client_procs']} client processes, livepy at {cfg['git']}. "
        "KiB = 1024 B."
    )
    print()
    rows: list[tuple[str, ...]] = [
        ("server", *(f"RSS @{c}" for c in [0, *cfg["counts"]]), "KiB/conn (slope)")
    ]
    for name, r in res.items():
        rows.append(
            (
                labels[name],
                *(f"{s['vmrss_kib'] / 1024:.1f} MiB" for s in r["samples"]),
                f"{r['vmrss_per_conn_kib']:.1f}",
            )
        )
    print_table(rows)
    print()
    n, events = cfg["counts"][-1], cfg["events"]
    rows = [
        (
            f"fan-out to {n}",
            "1 event: to last",
            f"{events} events: to last",
            "deliveries/s",
            "trigger returned",
        )
    ]
    for name, r in res.items():
        b = r["burst"]
        rows.append(
            (
                labels[name],
                f"{r['single_to_last_s'] * 1000:.1f} ms",
                f"{b['to_last_s'] * 1000:.0f} ms",
                f"{b['deliveries_per_s']:,.0f}",
                f"{b['trigger_returned_s'] * 1000:.0f} ms",
            )
        )
    print_table(rows)
    for key, who in (("ratios", "livepy (ASGI)"), ("lean_ratios", "livepy (lean)")):
        if key not in report:
            continue
        ratio = report[key]
        verdict = "met" if ratio["vmrss_per_conn"] <= TARGET_RATIO else "NOT met"
        print()
        print(
            f"{who} / bare: memory per connection {ratio['vmrss_per_conn']:.2f}x "
            f"(target <= {TARGET_RATIO}x: {verdict}); time to last, 1 event "
            f"{ratio['single_to_last']:.2f}x, {events} events {ratio['burst_to_last']:.2f}x; "
            f"deliveries/s {ratio['burst_deliveries_per_s']:.2f}x"
        )
    if "livepy" in res and "starlette" in res:
        extra = res["livepy"]["vmrss_per_conn_kib"] - res["starlette"]["vmrss_per_conn_kib"]
        print(
            f"livepy's Pusher layer over the uvicorn+Starlette floor: {extra:+.1f} KiB per "
            "connection"
        )
    print(f"JSON: {report['json_path']}  ({report['elapsed_s']} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--counts", default="1000,5000", help="connection counts (1000,5000)")
    parser.add_argument("--events", type=int, default=20, help="events in the burst (20)")
    parser.add_argument("--client-procs", type=int, default=2, help="client processes (2)")
    parser.add_argument("--only", default=",".join(SERVERS), help=f"servers ({','.join(SERVERS)})")
    parser.add_argument(
        "--json", type=Path, default=RESULTS / "pusher.json", help="output (results/pusher.json)"
    )
    args = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # inherited by the clients
    if args.client:
        asyncio.run(client_main())
        return
    try:
        counts = sorted({int(c) for c in args.counts.split(",") if c.strip()})
    except ValueError:
        parser.error("--counts takes comma-separated integers")
    which = [w.strip() for w in args.only.split(",") if w.strip()]
    if not counts or counts[0] < 10 or counts[-1] > 10_000:
        parser.error("--counts must be within 10..10000")
    if not 1 <= args.events <= 200:
        parser.error("--events must be 1..200")
    if not 1 <= args.client_procs <= 4:
        parser.error("--client-procs must be 1..4")
    if not which or set(which) - set(SERVERS):
        parser.error(f"--only takes some of {', '.join(SERVERS)}")
    if hard < counts[-1] + 200:
        parser.error(f"the open-files limit ({hard}) is too low for {counts[-1]} connections")
    run_and_report(
        lambda: run(counts, args.events, args.client_procs, which),
        args.json,
        print_report,
        stopped="servers and clients stopped",
    )


if __name__ == "__main__":
    main()
