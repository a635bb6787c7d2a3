"""Round-trip benchmark: a livepy counter click against a bare WebSocket echo and pyview-web.

Run from the repository root::

    .venv/bin/python benchmarks/roundtrip.py [--clicks 2000] [--rounds 6] [--no-pyview]

Four uvicorn servers run as subprocesses of this script, on 127.0.0.1 only, with the same
settings (``benchmarks/_serve.py``: uvloop, httptools, ``ws="websockets-sansio"`` unless said):

* **livepy** serves ``examples.counter.app:app`` as ``livepy serve`` does, with uvicorn's ``ws=``
  set to ``livepy.pusher.lean:PusherWebSocketProtocol`` (livepy's direct send). Each round the
  client GETs ``/``, decodes the counter's ``lp-snapshot``, JOINs it over ``/livepy/ws``
  (protocol v2) and then sends N ``increment`` CALL frames one at a time, applying each REPLY's
  render diff and snapshot patch.
* **livepy-asgi** is the same through plain ASGI (``ws="websockets-sansio"``), as
  ``uvicorn app:app`` serves it.
* **bare** is a bare Starlette WebSocket endpoint that answers every message with a
  precomputed payload as large as livepy's reply; the client sends messages as large as
  livepy's CALL frame. It is what the same socket stack costs with no framework work.
* **pyview** is pyview-web's counter (``benchmarks/apps/pyview_counter``, its own venv under
  ``benchmarks/.peers``): GET ``/count``, ``phx_join`` over ``/live/websocket``, then N
  ``increment`` click events as the phoenix_live_view JS client sends them (compact JSON).

Latency is taken on the client with ``time.perf_counter_ns`` from just before the frame is
sent to just after the reply has arrived; encoding, decoding and applying the reply happen
outside that window. After an untimed warmup round of each, rounds cycle through all orders
of the four (so machine noise hits each alike). The client offers no permessage-deflate, so
byte counts are the actual message payloads. Results are printed and written to
``benchmarks/results/roundtrip.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import itertools
import json
import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _common import (
    ASGI_WS,
    RESULTS,
    LiveClient,
    PhxClient,
    Server,
    compact_json,
    deadline,
    echo_server,
    environment,
    live_page,
    livepy_server,
    percentile,
    phx_page,
    print_table,
    run_and_report,
    ws_connect,
    ws_header,
)

START = 3  # examples/counter mounts with start=3


@dataclass
class RoundResult:
    latencies_ns: list[int] = field(default_factory=list)
    bytes_out: list[int] = field(default_factory=list)
    bytes_in: list[int] = field(default_factory=list)
    render_bytes: list[int] = field(default_factory=list)
    patch_bytes: list[int] = field(default_factory=list)


async def livepy_round(server: Server, clicks: int) -> RoundResult:
    from livepy.protocol import Call, decode_server_frame, encode

    (comp,) = await live_page(server, "/")
    result = RoundResult()
    perf = time.perf_counter_ns
    async with LiveClient.connect(server) as client:
        await client.join([comp])
        ws = client.ws
        for seq in range(1, clicks + 1):
            comp.seq = seq
            frame = encode(Call(comp.ref, seq, {}, (("increment", ()),)))
            t0 = perf()
            await ws.send(frame)
            data = await ws.recv()
            t1 = perf()
            result.latencies_ns.append(t1 - t0)
            result.bytes_out.append(len(frame))
            result.bytes_in.append(len(data))
            reply = client.take_reply(comp, data, decode_server_frame(data))
            result.render_bytes.append(reply.render_bytes)
            result.patch_bytes.append(reply.patch_bytes)
    if comp.state.get("count") != START + clicks or f">{START + clicks}<" not in comp.html:
        raise RuntimeError(f"counter did not reach {START + clicks}: {comp.state} {comp.html!r}")
    return result


async def bare_round(server: Server, clicks: int, call_bytes: int, reply_bytes: int) -> RoundResult:
    frame = bytes(i % 253 for i in range(call_bytes))
    result = RoundResult()
    perf = time.perf_counter_ns
    async with ws_connect(f"{server.ws_base}/ws") as ws:
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


async def pyview_round(server: Server, clicks: int) -> RoundResult:
    page = await phx_page(server, "/count")
    result = RoundResult()
    perf = time.perf_counter_ns
    async with PhxClient.connect(server, page) as client:
        await client.join()
        ws, topic = client.ws, page.topic
        payload = {"type": "click", "event": "increment", "value": {"value": ""}}
        for i in range(clicks):
            ref = str(client.ref + 1 + i)
            text = compact_json(["4", ref, topic, "event", payload])
            t0 = perf()
            await ws.send(text)
            reply = await ws.recv()
            t1 = perf()
            result.latencies_ns.append(t1 - t0)
            result.bytes_out.append(len(text.encode()))
            result.bytes_in.append(len(reply.encode()))
            frame = json.loads(reply)
            if frame[1] != ref or frame[4]["response"]["diff"] != {"0": str(i + 1)}:
                raise RuntimeError(f"pyview click {i + 1}: unexpected reply {reply}")
    return result


# --------------------------------------------------------------------------- statistics


def summarize(rounds: list[RoundResult]) -> dict[str, Any]:
    lat_us = [ns / 1000 for r in rounds for ns in r.latencies_ns]
    out = [b for r in rounds for b in r.bytes_out]
    inn = [b for r in rounds for b in r.bytes_in]
    out_med, in_med = int(statistics.median(out)), int(statistics.median(inn))
    summary = {
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
    render = [b for r in rounds for b in r.render_bytes]
    if render:
        patch = [b for r in rounds for b in r.patch_bytes]
        summary["reply_breakdown"] = {
            "reply_bytes": in_med,
            "render_bytes": int(statistics.median(render)),
            "patch_bytes": int(statistics.median(patch)),
            "framing_bytes": in_med - int(statistics.median(render) + statistics.median(patch)),
        }
    return summary


METRICS = ("p50_us", "p90_us", "p99_us", "mean_us", "min_us")
PAIRS = (
    ("livepy", "bare"),
    ("livepy-asgi", "bare"),
    ("livepy", "pyview"),
    ("pyview", "bare"),
)


def print_report(report: dict[str, Any]) -> None:
    cfg, res = report["config"], report["results"]
    names = [n for n in ("livepy", "livepy-asgi", "bare", "pyview") if n in res]
    pairs = [p for p in PAIRS if p[0] in res and p[1] in res]
    print()
    print(
        f"Counter click round trip: {cfg['clicks']} clicks x {cfg['rounds']} rounds per server, "
        f"interleaved, after 1 warmup round each; livepy at {cfg['git']}"
    )
    srv = cfg["servers"]["livepy"]
    ws = ", ".join(f"{n} {cfg['servers'][n]['settings']['ws']}" for n in names)
    print(
        f"uvicorn {srv['uvicorn']} loop={srv['settings']['loop']} "
        f"http={srv['settings']['http']} (same for every server), ws= {ws}; client websockets "
        f"{cfg['versions']['websockets']} (asyncio), no compression; Python {cfg['python']}, "
        f"{cfg['cpus']} CPUs; load average (1/5/15 min) before {cfg['loadavg_before']}, "
        f"after {cfg['loadavg_after']}"
    )
    if "pyview" in res:
        print(f"pyview-web {cfg['pyview_version']} counter (Phoenix channels v2 JSON)")
    print()
    header = ("", *names, *(f"{a}/{b}" for a, b in pairs))
    rows: list[tuple[str, ...]] = [header]
    for key in METRICS:
        cells = [f"{res[n][key]:.1f}" for n in names]
        ratios = [f"{res[a][key] / res[b][key]:.2f}x" for a, b in pairs]
        rows.append((f"{key.removesuffix('_us')} (us)", *cells, *ratios))
    for pct in ("p50", "p99"):
        key = f"per_round_{pct}_us"
        cells = [f"{min(res[n][key]):.0f}-{max(res[n][key]):.0f}" for n in names]
        rows.append((f"{pct} range over rounds", *cells))

    def size(s: dict[str, int]) -> str:
        return (
            str(s["median"]) if s["min"] == s["max"] else f"{s['median']} ({s['min']}-{s['max']})"
        )

    rows.append(("bytes out/click (payload)", *(size(res[n]["bytes_out"]) for n in names)))
    rows.append(("bytes in/click (payload)", *(size(res[n]["bytes_in"]) for n in names)))
    rows.append(("  + WS header out (masked)", *(f"+{res[n]['ws_header_out']}" for n in names)))
    rows.append(("  + WS header in", *(f"+{res[n]['ws_header_in']}" for n in names)))
    print_table(rows)
    b = res["livepy"]["reply_breakdown"]
    print()
    print(
        f"livepy reply ({b['reply_bytes']} B msgpack): render diff {b['render_bytes']} B, "
        f"snapshot patch {b['patch_bytes']} B, framing {b['framing_bytes']} B "
        "(frame type, ref, seq, array header)"
    )
    print(
        "Byte counts are WebSocket message payloads (medians, range in brackets: seq and count "
        "grow). WS headers: 2 B up to 125 B payload, 4 B up to 64 KiB, 10 B beyond; "
        "client->server frames add a 4 B mask. TCP/IP headers not counted."
    )
    print(f"JSON: {report['json_path']}  ({report['elapsed_s']} s)")


# --------------------------------------------------------------------------- main


def run(clicks: int, rounds: int, with_pyview: bool) -> dict[str, Any]:
    started = time.monotonic()
    load_before = os.getloadavg()
    limit = 30 + clicks * 0.01
    servers: dict[str, Server] = {}
    try:
        servers["livepy"] = livepy_server("livepy", "examples.counter.app:app").start()
        servers["livepy-asgi"] = livepy_server(
            "livepy-asgi", "examples.counter.app:app", ws=ASGI_WS
        ).start()
        # Warmup round of livepy; it also fixes the sizes the bare echo mirrors.
        warm = asyncio.run(deadline(livepy_round(servers["livepy"], clicks), limit))
        call_bytes = int(statistics.median(warm.bytes_out))
        reply_bytes = int(statistics.median(warm.bytes_in))
        servers["bare"] = echo_server(reply_bytes).start()
        pyview_version = None
        if with_pyview:
            from peers import PYVIEW, installed_versions, peer_server

            servers["pyview"] = peer_server(PYVIEW).start()
            pyview_version = installed_versions(PYVIEW, ("pyview-web",))["pyview-web"]

        def one(name: str) -> Any:
            server = servers[name]
            if name.startswith("livepy"):
                return livepy_round(server, clicks)
            if name == "bare":
                return bare_round(server, clicks, call_bytes, reply_bytes)
            return pyview_round(server, clicks)

        names = list(servers)
        orders = list(itertools.permutations(names))

        async def interleaved() -> dict[str, list[RoundResult]]:
            for name in names[1:]:  # warmups (livepy's ran above)
                await deadline(one(name), limit)
            results: dict[str, list[RoundResult]] = {name: [] for name in names}
            for r in range(rounds):
                for name in orders[r % len(orders)]:
                    results[name].append(await deadline(one(name), limit))
                print(f"  round {r + 1}/{rounds} done", file=sys.stderr, flush=True)
            return results

        results = asyncio.run(interleaved())
    finally:
        for server in servers.values():
            server.stop()

    summaries = {name: summarize(rs) for name, rs in results.items()}
    ratios = {
        f"{a}/{b}": {k: summaries[a][k] / summaries[b][k] for k in ("p50_us", "p99_us")}
        for a, b in PAIRS
        if a in summaries and b in summaries
    }
    return {
        "config": {
            "clicks": clicks,
            **environment(),
            "rounds": rounds,
            "warmup_rounds": 1,
            "orders": [list(o) for o in orders],
            "servers": {name: server.info for name, server in servers.items()},
            "client": "websockets.asyncio.client, compression=None, ping_interval=None",
            "versions": {
                name: importlib.metadata.version(name)
                for name in ("uvicorn", "starlette", "websockets", "msgpack", "livepy")
            },
            "pyview_version": pyview_version,
            "loadavg_before": [round(x, 2) for x in load_before],
            "loadavg_after": [round(x, 2) for x in os.getloadavg()],
            "bare_call_bytes": call_bytes,
            "bare_reply_bytes": reply_bytes,
        },
        "results": summaries,
        "ratios": ratios,
        "elapsed_s": round(time.monotonic() - started, 2),
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clicks", type=int, default=2000, help="clicks per round (2000)")
    parser.add_argument("--rounds", type=int, default=6, help="timed rounds per server (6)")
    parser.add_argument("--no-pyview", action="store_true", help="skip the pyview-web peer")
    parser.add_argument(
        "--json", type=Path, default=RESULTS / "roundtrip.json", help="output (results/...)"
    )
    args = parser.parse_args()
    if not (1 <= args.clicks <= 100_000 and 1 <= args.rounds <= 100):
        parser.error("--clicks must be 1..100000 and --rounds 1..100")
    run_and_report(
        lambda: run(args.clicks, args.rounds, not args.no_pyview), args.json, print_report
    )


if __name__ == "__main__":
    main()
