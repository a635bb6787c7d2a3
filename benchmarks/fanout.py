"""Broadcast fan-out to live components, against a bare ``websockets`` broadcast() floor.

Run from the repository root::

    .venv/bin/python benchmarks/fanout.py [--components 1000,5000] [--per-page 5] [--events 10]
        [--rounds 7] [--client-procs 2] [--no-redis] [--slice-ab SECONDS]

For each number of subscribed components (``--per-page`` components per connection, so 5,000
components are 1,000 connections x 5), three servers run at once, each with its own client
processes and connections, and are measured in turns (the order rotating each round), so that a
slower minute of a shared machine slows every column alike:

* **livepy, shared state**: ``benchmarks/apps/fanout_bench.py`` under ``_serve.py`` (uvicorn, the
  same settings as the other benchmarks; ``ws=`` as ``livepy serve`` sets it, for livepy's direct
  send, or ``BENCH_LIVEPY_WS=websockets-sansio`` for plain ASGI), memory broker. Every component
  has the same state (a dashboard everybody sees), so each broadcast renders once per process
  and the html is shared (render-once fan-out, ``livepy/fanout.py``); each page still gets its
  own diff, snapshot MAC and frame.
* **livepy, per-user state**: the same app, each component with its own state: one render each.
* **bare**: ``benchmarks/apps/bare_fanout.py``, a ``websockets`` server that ``broadcast()``s, per
  event, as many frames as livepy pushes (one per component) and of the median size of
  livepy's pushed REPLY frames over 9 warm-up events of the shared run (a diff's size moves with
  the figures), to the same number of connections. This is the floor: the
  cost of moving those bytes, with no rendering, diffing or signing.
* **livepy x2 + Redis** (largest count, shared state; skipped with ``--no-redis`` or without
  ``redis-server``): two processes of the same app on one redis-server (started here on a free
  port), the connections split between them, the broadcasts sent through one of them.

With ``--slice-ab SECONDS``, the per-user server is replaced by a second shared-state one whose
push batch lets the event loop run every SECONDS (``SLICE`` in ``livepy/pushbatch.py``), and the
median of each round's ratio of the two is reported: slices compared in one run.

Clients live in ``--client-procs`` separate processes (this script with ``--client``), each
holding its share of the connections: it fetches the JOIN frames from ``/bench/joins``, opens the
sockets, joins, waits for every JOINED, then counts pushed REPLY frames with their arrival times
(``time.monotonic()``, system-wide, so comparable between processes) and answers PINGs.

* **single**: the time from just before one broadcast is triggered to the last REPLY of it being
  received: the median of ``--rounds`` rounds, after warm-up events. The ratio to bare is given
  both ways: median over median, and the median of each round's own ratio (paired).
* **burst**: ``--events`` broadcasts triggered at once; the time to the last REPLY of the last
  one, and deliveries (component updates received) per second: the best of two rounds.

Both servers are triggered the same way: a ``fire:N`` message on a WebSocket kept open
(livepy's app at ``/bench/control``, bare's at ``/control``), answered ``done``. Client
processes share the machine's CPUs with the servers. Results go to
``benchmarks/results/fanout.json``; every wait has a timeout and every process is stopped on exit.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
import shutil
import socket
import statistics
import subprocess
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
    LIVEPY_WS,
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

BARE_SCRIPT = APPS / "bare_fanout.py"
APP = "fanout_bench:app"
CONNECT_BATCH = 50  # concurrent handshakes per client process
BURST_ROUNDS = 2
SIZE_SAMPLES = 9  # livepy pushes whose median size bare's frames take
WAIT_TIMEOUT = 120.0
REPLY, JOINED, ERROR, PING = 3, 7, 4, 5
PONG_FRAME = b"\x91\x06"


class BareServer(Server):
    def start(self) -> Server:
        saved = _common.SERVE
        _common.SERVE = BARE_SCRIPT
        try:
            return super().start()
        finally:
            _common.SERVE = saved


def fanout_server(name: str, broker: str = "memory://", **env: str) -> Server:
    return livepy_server(name, APP, LIVEPY_BROKER=broker, **env)


# --------------------------------------------------------------------------- client process


def frame_type(data: bytes) -> int:
    """The type of a msgpack frame ``[type, ...]`` without decoding it (-1 when not one)."""
    if len(data) >= 2 and 0x91 <= data[0] <= 0x9F:
        return data[1]
    if len(data) >= 4 and data[0] == 0xDC:
        return data[3]
    return -1


async def client_main() -> None:
    """``--client``: hold connections; commands and answers are JSON lines on stdin/stdout."""
    import msgpack
    from websockets.asyncio.client import connect

    sockets: list[Any] = []
    readers: list[asyncio.Task[None]] = []
    state = {"expected": 0, "count": 0, "last": 0.0}
    sizes: list[int] = []
    complete = asyncio.Event()

    async def read(ws: Any) -> None:
        with contextlib.suppress(Exception):
            async for data in ws:
                kind = frame_type(data)
                if kind == REPLY:
                    state["count"] += 1
                    state["last"] = time.monotonic()
                    if len(sizes) < 1000:
                        sizes.append(len(data))
                    if state["count"] >= state["expected"]:
                        complete.set()
                elif kind == PING:
                    await ws.send(PONG_FRAME)

    async def open_one(url: str, join: list[Any] | None) -> None:
        ws = await connect(url, compression=None, ping_interval=None, max_size=2**22)
        sockets.append(ws)
        if join is not None:
            await ws.send(msgpack.packb([1, join], use_bin_type=True))
            for _ in join:
                data = await asyncio.wait_for(ws.recv(), 60)
                if frame_type(data) != JOINED:
                    raise RuntimeError(f"expected JOINED, got {msgpack.unpackb(data)!r}")
        readers.append(asyncio.create_task(read(ws)))

    async def close_all() -> None:
        for task in readers:
            task.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
        async with asyncio.timeout(60):
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
                joins: list[Any] = [None] * cmd["n"]
                if cmd.get("joins_url"):
                    joins = await asyncio.to_thread(fetch_joins, cmd["joins_url"])
                async with asyncio.timeout(cmd["timeout"]):
                    for start in range(0, len(joins), CONNECT_BATCH):
                        batch = joins[start : start + CONNECT_BATCH]
                        urls = cmd["urls"]
                        await asyncio.gather(
                            *(
                                open_one(urls[(start + i) % len(urls)], join)
                                for i, join in enumerate(batch)
                            )
                        )
                reply({"open": len(sockets)})
            elif cmd["cmd"] == "arm":
                complete.clear()
                state.update(expected=cmd["expected"], count=0, last=0.0)
                sizes.clear()
                if cmd["expected"] == 0:
                    complete.set()
                reply({"armed": True})
            elif cmd["cmd"] == "wait":
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(complete.wait(), cmd["timeout"])
                median = statistics.median(sizes) if sizes else 0
                reply({"count": state["count"], "last": state["last"], "size": median})
            elif cmd["cmd"] == "close":
                await close_all()
                reply({"closed": True})
                break
        except Exception as exc:  # report it to the parent, which stops the run
            reply({"error": f"{type(exc).__name__}: {exc}"})


def fetch_joins(url: str) -> list[Any]:
    import msgpack

    host_port, _, path = url.removeprefix("http://").partition("/")
    host, _, port = host_port.partition(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=120)
    try:
        conn.request("GET", "/" + path)
        response = conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"/bench/joins answered {response.status}")
    finally:
        conn.close()
    joins: list[Any] = msgpack.unpackb(body, raw=False)
    return joins


class SocketTrigger:
    """A trigger sent as a message on a WebSocket kept open (``fire:N`` + ``suffix``), answered
    ``done``: livepy's app and the bare server are triggered the same way."""

    def __init__(self, url: str, suffix: str = "") -> None:
        from websockets.sync.client import connect

        self.url, self.suffix = url, suffix
        self.stack = contextlib.ExitStack()
        self.ws = self.stack.enter_context(connect(url, open_timeout=10))

    def fire(self, n: int) -> None:
        self.ws.send(f"fire:{n}{self.suffix}")
        if self.ws.recv(timeout=WAIT_TIMEOUT) != "done":
            raise RuntimeError(f"{self.url} did not answer done")

    def close(self) -> None:
        self.stack.close()


def livepy_trigger(port: int) -> SocketTrigger:
    return SocketTrigger(f"ws://{HOST}:{port}/bench/control")


# --------------------------------------------------------------------------- measurement


def fan_out(
    procs: list[ClientProc], trigger: Any, events: int, shares: list[int]
) -> dict[str, Any]:
    """Fire ``events`` broadcasts; ``shares``: the components each client process holds."""
    expected = sum(shares)
    for proc, share in zip(procs, shares, strict=True):
        proc.send(cmd="arm", expected=share * events)
    for proc in procs:
        proc.answer(10)
    t0 = time.monotonic()
    trigger.fire(events)
    answers = all_answer(procs, WAIT_TIMEOUT + 10, cmd="wait", timeout=WAIT_TIMEOUT)
    delivered = sum(a["count"] for a in answers)
    if delivered < expected * events:
        raise RuntimeError(f"only {delivered} of {expected * events} deliveries arrived")
    t_last = max(a["last"] for a in answers) - t0
    sizes = [a["size"] for a in answers if a["size"]]
    return {
        "events": events,
        "deliveries": delivered,
        "to_last_s": t_last,
        "deliveries_per_s": delivered / t_last,
        "reply_bytes": statistics.median(sizes) if sizes else 0,
    }


class Rig:
    """One server under test with its pages open: ``--client-procs`` client processes holding
    ``components // per_page`` connections, JOINed (``mode``) or bare (``mode`` None)."""

    def __init__(
        self, name: str, ports: list[int], components: int, per_page: int, nprocs: int,
        mode: str | None,
    ) -> None:  # fmt: skip
        self.name, self.ports, self.mode = name, ports, mode
        self.components, self.per_page = components, per_page
        self.conns = components // per_page
        self.shares = split(self.conns, nprocs)
        self.held = [share * per_page for share in self.shares]
        self.trigger: Any = None
        self.procs: list[ClientProc] = []
        self.singles: list[dict[str, Any]] = []
        self.bursts: list[dict[str, Any]] = []

    def open(self) -> None:
        self.procs = [ClientProc(__file__) for _ in self.shares]
        urls = [
            f"ws://{HOST}:{port}/livepy/ws" if self.mode else f"ws://{HOST}:{port}/"
            for port in self.ports
        ]
        timeout = 60 + self.conns * 0.1
        first = 0
        for proc, share in zip(self.procs, self.shares, strict=True):
            joins_url = (
                f"http://{HOST}:{self.ports[0]}/bench/joins?mode={self.mode}&conns={share}"
                f"&k={self.per_page}&first={first}"
                if self.mode
                else ""
            )
            proc.send(cmd="open", urls=urls, joins_url=joins_url, n=share, timeout=timeout)
            first += share
        for proc in self.procs:
            proc.answer(timeout + 30)

    def fire(self, events: int) -> dict[str, Any]:
        try:
            return fan_out(self.procs, self.trigger, events, self.held)
        except RuntimeError as exc:
            raise RuntimeError(f"{self.name} {self.components}: {exc}") from None

    def close(self) -> None:
        with contextlib.suppress(RuntimeError):
            all_answer(self.procs, 120, cmd="close")
        for proc in self.procs:
            proc.stop()
        if self.trigger is not None:
            self.trigger.close()

    def result(self) -> dict[str, Any]:
        single = statistics.median(s["to_last_s"] for s in self.singles)
        burst = max(self.bursts, key=lambda b: b["deliveries_per_s"])
        print(
            f"  {self.name} {self.components}: single {single * 1000:.1f} ms"
            f" (of {[round(s['to_last_s'] * 1000, 1) for s in self.singles]}),"
            f" burst {burst['deliveries_per_s']:.0f} deliveries/s",
            file=sys.stderr,
            flush=True,
        )
        return {
            "components": self.components,
            "connections": self.conns,
            "single_to_last_s": single,
            "singles": self.singles,
            "burst": burst,
            "bursts": self.bursts,
            "reply_bytes": statistics.median(s["reply_bytes"] for s in self.singles),
        }


def interleave(rigs: list[Rig], events: int, rounds: int) -> None:
    """``rounds`` rounds of one single event per rig, then ``BURST_ROUNDS`` of one burst per
    rig, the rig order rotating each round: the servers share the machine's time evenly, so a
    slower minute of a shared machine slows every column alike."""
    for n in range(rounds):
        order = rigs[n % len(rigs) :] + rigs[: n % len(rigs)]
        for rig in order:
            rig.singles.append(rig.fire(1))
    for n in range(BURST_ROUNDS):
        order = rigs[n % len(rigs) :] + rigs[: n % len(rigs)]
        for rig in order:
            rig.bursts.append(rig.fire(events))


def paired_ratio(rig: Rig, floor: Rig) -> float:
    """The median, over the rounds, of ``rig``'s single time over the floor's in that round."""
    return statistics.median(
        mine["to_last_s"] / bare["to_last_s"]
        for mine, bare in zip(rig.singles, floor.singles, strict=True)
    )


def run_count(
    components: int,
    per_page: int,
    events: int,
    nprocs: int,
    rounds: int,
    slice_ab: float | None = None,
) -> dict[str, Any]:
    """livepy shared, livepy per-user and the bare floor for one component count, all three
    servers up at once and measured in turns. With ``slice_ab``, the per-user column is
    instead a shared-state server whose push batch lets the loop run every ``slice_ab``
    seconds (``pushbatch.SLICE``), to compare slices in one run."""
    with contextlib.ExitStack() as stack:
        shared_server = stack.enter_context(fanout_server("livepy-shared"))
        if slice_ab is None:
            user_server = stack.enter_context(fanout_server("livepy-user"))
        else:
            slice_env = {"LIVEPY_BENCH_SLICE": repr(slice_ab)}
            user_server = stack.enter_context(fanout_server("livepy-slice", **slice_env))
        bare_server = stack.enter_context(BareServer("bare", "bare"))
        shared = Rig("livepy-shared", [shared_server.port], components, per_page, nprocs, "shared")
        user_mode = "user" if slice_ab is None else "shared"
        user = Rig("livepy-user", [user_server.port], components, per_page, nprocs, user_mode)
        bare = Rig("bare", [bare_server.port], components, per_page, nprocs, None)
        rigs = [shared, user, bare]
        for rig in rigs:
            stack.callback(rig.close)
            rig.open()
        shared.trigger = livepy_trigger(shared_server.port)
        user.trigger = livepy_trigger(user_server.port)
        shared.fire(1)  # the first push after a JOIN differs: warm up, then take the size
        # A diff's size moves with the figures from event to event (111-179 B here): bare
        # sends frames of the median size of livepy's pushes over a few events.
        sizes = [shared.fire(1)["reply_bytes"] for _ in range(SIZE_SAMPLES)]
        size = int(statistics.median(sizes)) or 200
        bare.trigger = SocketTrigger(
            f"ws://{HOST}:{bare_server.port}/control", f":{per_page}:{size}"
        )
        user.fire(1)
        bare.fire(1)
        time.sleep(1.0)
        interleave(rigs, events, rounds)
        row = {"shared": shared.result(), "user": user.result(), "bare": bare.result()}
        for mode, rig in (("shared", shared), ("user", user)):
            row[mode]["server"] = (shared_server if rig is shared else user_server).info
            row[mode]["single_vs_bare_paired"] = paired_ratio(rig, bare)
        row["bare"]["server"] = bare_server.info
        if slice_ab is not None:
            row["slice_ab"] = {"slice_s": slice_ab, "vs_default_paired": paired_ratio(user, shared)}
        return row


@contextlib.contextmanager
def redis_server() -> Any:
    binary = shutil.which("redis-server")
    if binary is None:
        yield None
        return
    sock = socket.socket()
    sock.bind((HOST, 0))
    port = sock.getsockname()[1]
    sock.close()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", HOST, "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(OSError), socket.create_connection((HOST, port), 1) as conn:
                conn.sendall(b"PING\r\n")
                if conn.recv(16).startswith(b"+PONG"):
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)
        yield f"redis://{HOST}:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def run_redis(
    url: str, components: int, per_page: int, events: int, nprocs: int, rounds: int
) -> dict[str, Any]:
    with fanout_server("livepy-1", url) as one, fanout_server("livepy-2", url) as two:
        rig = Rig("livepy x2 redis", [one.port, two.port], components, per_page, nprocs, "shared")
        try:
            rig.open()
            rig.trigger = livepy_trigger(one.port)
            rig.fire(1)
            time.sleep(1.0)
            interleave([rig], events, rounds)
            result = rig.result()
        finally:
            rig.close()
        result["servers"] = [one.info, two.info]
        return result


def run(
    counts: list[int],
    per_page: int,
    events: int,
    nprocs: int,
    redis: bool,
    rounds: int,
    slice_ab: float | None = None,
) -> dict[str, Any]:
    started = time.monotonic()
    rows: dict[str, Any] = {}
    for components in counts:
        rows[str(components)] = run_count(components, per_page, events, nprocs, rounds, slice_ab)
    report: dict[str, Any] = {"results": rows}
    ratios: dict[str, Any] = {}
    for key, row in rows.items():
        bare = row["bare"]
        ratios[key] = {
            mode: {
                "single_to_last_vs_bare": row[mode]["single_to_last_s"] / bare["single_to_last_s"],
                "single_vs_bare_paired": row[mode]["single_vs_bare_paired"],
                "deliveries_per_s_vs_bare": row[mode]["burst"]["deliveries_per_s"]
                / bare["burst"]["deliveries_per_s"],
            }
            for mode in ("shared", "user")
        }
    report["ratios"] = ratios
    if redis:
        largest = max(counts)
        with redis_server() as url:
            if url is None:
                report["redis"] = {"skipped": "redis-server not found"}
            else:
                two = run_redis(url, largest, per_page, events, nprocs, rounds)
                one = rows[str(largest)]["shared"]
                report["redis"] = {
                    "result": two,
                    "deliveries_per_s_vs_one_process": two["burst"]["deliveries_per_s"]
                    / one["burst"]["deliveries_per_s"],
                    "single_to_last_vs_one_process": two["single_to_last_s"]
                    / one["single_to_last_s"],
                }
    report["config"] = {
        "counts": counts,
        "per_page": per_page,
        "events": events,
        "rounds": rounds,
        "client_procs": nprocs,
        "slice_ab": slice_ab,
        "livepy_ws": LIVEPY_WS,
        **environment(),
    }
    report["elapsed_s"] = round(time.monotonic() - started, 2)
    report["timestamp"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    return report


def print_report(report: dict[str, Any]) -> None:
    cfg = report["config"]
    print(
        f"\nFan-out of one broadcast to N components ({cfg['per_page']} per connection), "
        f"{cfg['client_procs']} client processes, burst of {cfg['events']} events; "
        f"{cfg['cpus']} CPUs, Python {cfg['python']}, git {cfg['git']}; livepy served with "
        f"uvicorn ws={cfg['livepy_ws']}\n"
    )
    slice_ab = cfg.get("slice_ab")
    user_label = "livepy per-user" if slice_ab is None else f"livepy shared, slice {slice_ab}"
    rows = [["components", "server", "single: last patch", "burst: deliveries/s", "frame bytes"]]
    for key, row in report["results"].items():
        for mode, label in (("bare", "bare websockets"), ("shared", "livepy shared"),
                            ("user", user_label)):  # fmt: skip
            r = row[mode]
            rows.append(
                [
                    key,
                    label,
                    f"{r['single_to_last_s'] * 1000:.1f} ms",
                    f"{r['burst']['deliveries_per_s']:.0f}",
                    f"{r['reply_bytes']:.0f}",
                ]
            )
    print_table(rows, right_from=2)
    print()
    for key, ratios in report["ratios"].items():
        for mode, r in ratios.items():
            print(
                f"{key} components, {mode}: last patch {r['single_to_last_vs_bare']:.2f}x bare"
                f" (paired by round: {r['single_vs_bare_paired']:.2f}x),"
                f" deliveries/s {r['deliveries_per_s_vs_bare']:.2f}x bare"
            )
    for key, row in report["results"].items():
        if "slice_ab" in row:
            print(
                f"{key} components: slice {row['slice_ab']['slice_s']} s against the default"
                f" {row['slice_ab']['vs_default_paired']:.3f}x (paired by round)"
            )
    redis = report.get("redis")
    if redis and "result" in redis:
        r = redis["result"]
        print(
            f"\n2 processes + Redis, {r['components']} components (shared): single "
            f"{r['single_to_last_s'] * 1000:.1f} ms, {r['burst']['deliveries_per_s']:.0f}"
            f" deliveries/s = {redis['deliveries_per_s_vs_one_process']:.2f}x one process"
        )
    elif redis:
        print(f"\nRedis: {redis['skipped']}")
    print(f"\nSaved to {report['json_path']} ({report['elapsed_s']} s)")


def main() -> None:
    if "--client" in sys.argv:
        asyncio.run(client_main())
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--components", default="1000,5000")
    parser.add_argument("--per-page", type=int, default=5)
    parser.add_argument("--events", type=int, default=10)
    parser.add_argument("--client-procs", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--no-redis", action="store_true")
    parser.add_argument(
        "--slice-ab",
        type=float,
        metavar="SECONDS",
        help="replace the per-user column with a shared one whose push batch slice is SECONDS",
    )
    args = parser.parse_args()
    counts = [int(x) for x in args.components.split(",")]
    run_and_report(
        lambda: run(
            counts,
            args.per_page,
            args.events,
            args.client_procs,
            not args.no_redis,
            args.rounds,
            args.slice_ab,
        ),
        RESULTS / "fanout.json",
        print_report,
    )


if __name__ == "__main__":
    main()
