"""The server side of one broadcast, in process: microseconds per component, optionally profiled.

Run from the repository root::

    .venv/bin/python benchmarks/fanout_profile.py [--mode shared|user] [--conns 1000]
        [--per-page 5] [--events 6] [--profile]

``--conns`` LiveSessions of the fan-out benchmark's app (``apps/fanout_bench.py``) each join
``--per-page`` tiles, with a ``push`` that only keeps the frames: no socket, no client, so what is
measured is livepy's own work per component (listener, render or shared render, diffs, snapshot
patch and MAC, frame, session bookkeeping). Each event is timed from just before
``live.broadcast()`` to the last frame pushed (every event changes the state); the median of
``--events`` is reported. With
``--profile`` the last event runs under cProfile and the top functions by own time are printed.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH.parent), str(BENCH / "apps")]
os.environ.setdefault("LIVEPY_SECRET_KEY", "fanout-profile")

import fanout_bench  # noqa: E402

from livepy.protocol.frames import Join, JoinItem, encode  # noqa: E402
from livepy.session import LiveSession  # noqa: E402


async def run(mode: str, conns: int, per_page: int, events: int, profile: bool) -> None:
    live = fanout_bench.live
    pushed: list[bytes] = []
    arrived = asyncio.Event()

    async def push(frame: bytes) -> None:
        pushed.append(frame)
        arrived.set()

    for page in range(conns):
        session = LiveSession(live)
        session.push = push
        owners = ["everyone" if mode == "shared" else f"user{page}.{k}" for k in range(per_page)]
        joins = [fanout_bench._join(owner) for owner in owners]
        await session.receive(encode(Join(tuple(JoinItem(cid, wire) for cid, wire in joins))))
    expected = conns * per_page
    timings = []
    for n in range(events):
        pushed.clear()
        profiler = cProfile.Profile() if profile and n == events - 1 else None
        if profiler is not None:
            profiler.enable()
        started = time.perf_counter()
        data = {"visitors": n + 1, "orders": n + 1}  # every event changes the state
        await live.broadcast(fanout_bench.CHANNEL, fanout_bench.EVENT, data)
        async with asyncio.timeout(60):
            while len(pushed) < expected:
                arrived.clear()
                await arrived.wait()
        timings.append(time.perf_counter() - started)
        if profiler is not None:
            profiler.disable()
            pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
    median = statistics.median(timings)
    print(
        f"{mode}: {expected} components ({conns} sessions x {per_page}), median of {events}: "
        f"{median * 1e3:.1f} ms, {median / expected * 1e6:.1f} us per component; "
        f"all (ms): {[round(t * 1e3, 1) for t in timings]}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mode", choices=["shared", "user"], default="shared")
    parser.add_argument("--conns", type=int, default=1000)
    parser.add_argument("--per-page", type=int, default=5)
    parser.add_argument("--events", type=int, default=6)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    asyncio.run(run(args.mode, args.conns, args.per_page, args.events, args.profile))


if __name__ == "__main__":
    main()
