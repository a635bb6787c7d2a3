"""Bytes per update: what one interaction costs on the wire, livepy against its peers.

Run from the repository root::

    .venv/bin/python benchmarks/bytes.py [--updates 20] [--no-peers]

Scenarios, each measured live over a real socket on 127.0.0.1:

1. **counter click**: ``examples.counter.app`` (livepy), pyview-web's counter (Phoenix channel
   JSON over WebSocket) and django-unicorn's counter (HTTP POST), each clicked ``--updates``
   times. Phoenix LiveView's figure is documented, not measured.
2. **one cell of a 200-row table** changes: ``Table.set_status`` in
   ``benchmarks/apps/livepy_bench.py``.
3. **one row appended to a 200-row list**: ``List.append`` in the same app.

livepy's REPLY is split into its render diff, its snapshot patch and the framing around them
(frame type, ref, seq, array header), each counted as the msgpack bytes it takes in the message.
For context, each update is also priced as a reply carrying the whole html (v2 with a full-html
render) and as protocol v1 sent it (full html + 16-byte-MAC binary snapshot). Sizes are whole
WebSocket message payloads (medians over the updates); "+hdr" adds the RFC 6455 frame header.
The livepy client applies every diff (checking its CRC) and snapshot patch like the JS runtime
does, and at the end rejoins on a new socket with its patched snapshot: the server must accept
it and send back the same html the client holds. Results go to ``benchmarks/results/bytes.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import importlib.metadata
import re
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgpack
from _common import (
    LIVEVIEW_COUNTER_EVENT,
    LIVEVIEW_COUNTER_REPLY,
    LIVEWIRE_TABLE_CELL,
    RESULTS,
    LiveClient,
    LiveComponent,
    PhxClient,
    Server,
    UnicornClient,
    deadline,
    environment,
    live_page,
    livepy_server,
    median_int,
    phx_page,
    print_table,
    run_and_report,
    v1_reply_bytes,
    ws_header,
)

TARGETS = {"counter": 40, "table_cell": 150}
STATUSES = ("pending", "paid", "shipped", "delivered", "refunded")  # as in livepy_bench.py

Plan = Callable[[int, LiveComponent], tuple[str, list[Any]]]


def _counter_plan(i: int, comp: LiveComponent) -> tuple[str, list[Any]]:
    return "increment", []


def _table_plan(i: int, comp: LiveComponent) -> tuple[str, list[Any]]:
    """Change the status cell of a different row each time, always to a new value."""
    order_id = 1 + (i * 37) % len(comp.state["orders"])
    current = comp.state["orders"][order_id - 1]["status"]
    return "set_status", [order_id, STATUSES[(STATUSES.index(current) + 1) % len(STATUSES)]]


def _list_plan(i: int, comp: LiveComponent) -> tuple[str, list[Any]]:
    return "append", []


def _stats(values: list[int]) -> dict[str, int]:
    return {"median": median_int(values), "min": min(values), "max": max(values)}


async def measure_livepy(server: Server, path: str, plan: Plan, updates: int) -> dict[str, Any]:
    (comp,) = await live_page(server, path)
    initial_html = 0
    rows: list[dict[str, Any]] = []
    async with LiveClient.connect(server) as client:
        (joined_bytes,) = await client.join([comp])
        initial_html = len(comp.html.encode())
        for i in range(updates):
            method, args = plan(i, comp)
            reply = await client.call(comp, [(method, args)])
            row = {
                "call": client.sent[-1],
                "reply": reply.total,
                "render_kind": reply.render_kind,
                "render": reply.render_bytes,
                "patch": reply.patch_bytes,
                "effects": reply.effects_bytes,
                "framing": reply.framing_bytes,
                "full_html_v2": reply.as_full_html_v2(),
                "v1": v1_reply_bytes(comp, reply.html),
                "html": len(reply.html.encode()),
            }
            if method == "append":
                last_id = comp.state["items"][-1]["id"]
                li = re.search(rf'<li lp-key="{last_id}">.*?</li>', reply.html)
                if li is None:
                    raise RuntimeError(f"appended item {last_id} is not in the html")
                row["row_html"] = len(li.group(0).encode())
                row["row_state"] = len(msgpack.packb(comp.state["items"][-1]))
            rows.append(row)
    # A reconnect must restore the latest state from the client's patched snapshot.
    fresh = LiveComponent.from_snapshot(copy.deepcopy(comp.snapshot()))
    async with LiveClient.connect(server) as client:
        await client.join([fresh])
    if fresh.html != comp.html:
        raise RuntimeError(f"{path}: rejoin with the patched snapshot rendered different html")

    keys = ["call", "reply", "render", "patch", "effects", "framing", "full_html_v2", "v1", "html"]
    if "row_html" in rows[0]:
        keys += ["row_html", "row_state"]
    result: dict[str, Any] = {k: _stats([r[k] for r in rows]) for k in keys}
    result["render_kinds"] = dict(Counter(r["render_kind"] for r in rows))
    result["updates"] = updates
    result["joined_bytes"] = joined_bytes
    result["initial_html"] = initial_html
    result["rejoin_ok"] = True
    result["example"] = {"render": _short(reply.render), "patch": _short(reply.patch)}
    result["ws_header_in"] = ws_header(result["reply"]["median"], masked=False)
    result["ws_header_out"] = ws_header(result["call"]["median"], masked=True)
    return result


def _short(value: Any, limit: int = 160) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


PhxPlan = Callable[[int], tuple[str, dict[str, str] | None, str]]  # event, value, must see


def _pyview_counter_plan(i: int) -> tuple[str, dict[str, str] | None, str]:
    return "increment", None, f'{{"0": "{i + 1}"}}'


def _pyview_table_plan() -> PhxPlan:
    status = {n: STATUSES[n % 3] for n in range(1, 201)}  # as table_view.make_order

    def plan(i: int) -> tuple[str, dict[str, str] | None, str]:
        order_id = 1 + (i * 37) % 200
        new = STATUSES[(STATUSES.index(status[order_id]) + 1) % len(STATUSES)]
        status[order_id] = new
        return "set_status", {"order_id": str(order_id), "status": new}, f'"{new}"'

    return plan


def _pyview_list_plan(i: int) -> tuple[str, dict[str, str] | None, str]:
    return "append", None, f"Item number {201 + i}"


async def measure_pyview(server: Server, path: str, plan: PhxPlan, updates: int) -> dict[str, Any]:
    page = await phx_page(server, path)
    replies, sent = [], []
    async with PhxClient.connect(server, page) as client:
        join = await client.join()
        for i in range(updates):
            event, value, must_see = plan(i)
            out, reply = await client.click(event, value)
            if must_see not in reply:
                raise RuntimeError(f"pyview {path} update {i + 1}: {must_see} not in {reply[:300]}")
            replies.append(len(reply.encode()))
            sent.append(out)
    result = {
        "reply": _stats(replies),
        "call": _stats(sent),
        "join_reply": len(join.encode()),
        "example": _short(reply, 300),
    }
    result["ws_header_in"] = ws_header(result["reply"]["median"], masked=False)
    result["ws_header_out"] = ws_header(result["call"]["median"], masked=True)
    return result


async def measure_unicorn(server: Server, updates: int) -> dict[str, Any]:
    bodies, sent = [], []
    async with UnicornClient.connect(server) as client:
        await client.load("/")
        for i in range(updates):
            out, got, response = await client.call("increment")
            if response["data"]["count"] != i + 1:
                raise RuntimeError(f"unicorn click {i + 1}: unexpected response {response}")
            bodies.append(got)
            sent.append(out)
    return {"reply": _stats(bodies), "call": _stats(sent), "transport": "HTTP POST (bodies)"}


def _versions() -> dict[str, str]:
    names = ("livepy", "uvicorn", "starlette", "websockets", "msgpack")
    return {n: importlib.metadata.version(n) for n in names}


def run(updates: int, with_peers: bool) -> dict[str, Any]:
    started = time.monotonic()
    report: dict[str, Any] = {"livepy": {}, "peers": {}, "documented": {}}
    limit = 60 + updates * 0.5
    with livepy_server("livepy-counter", "examples.counter.app:app") as server:
        report["server"] = server.info
        report["livepy"]["counter"] = asyncio.run(
            deadline(measure_livepy(server, "/", _counter_plan, updates), limit)
        )
    with livepy_server("livepy-bench", "livepy_bench:app") as server:
        for name, path, plan in (
            ("table_cell", "/table", _table_plan),
            ("list_append", "/list", _list_plan),
        ):
            report["livepy"][name] = asyncio.run(
                deadline(measure_livepy(server, path, plan, updates), limit)
            )
    if with_peers:
        from peers import PYVIEW, UNICORN, installed_versions, peer_server

        pyview: dict[str, Any] = {}
        with peer_server(PYVIEW) as server:
            for name, path, phx_plan in (
                ("counter", "/count", _pyview_counter_plan),
                ("table_cell", "/table", _pyview_table_plan()),
                ("list_append", "/list", _pyview_list_plan),
            ):
                pyview[name] = asyncio.run(
                    deadline(measure_pyview(server, path, phx_plan, updates), limit)
                )
        pyview["versions"] = installed_versions(PYVIEW, ("pyview-web",))
        report["peers"]["pyview"] = pyview
        with peer_server(UNICORN) as server:
            report["peers"]["unicorn"] = asyncio.run(
                deadline(measure_unicorn(server, updates), limit)
            )
        report["peers"]["unicorn"]["versions"] = installed_versions(
            UNICORN, ("django-unicorn", "Django")
        )
    report["documented"] = {
        "liveview_counter_reply": LIVEVIEW_COUNTER_REPLY,
        "liveview_counter_event": LIVEVIEW_COUNTER_EVENT,
        "livewire_table_cell": LIVEWIRE_TABLE_CELL,
        "sources": {
            "liveview": "shared/research/peers.md 1.2 (phx_reply with a 20-char view id, "
            "compact JSON)",
            "livewire": "shared/research/livewire.md 5: livewire/livewire PR #10416, "
            "200-row table status, morph response raw",
        },
    }
    report["targets"] = TARGETS
    report["config"] = {
        "updates": updates,
        **environment(),
        "versions": _versions(),
    }
    report["elapsed_s"] = round(time.monotonic() - started, 2)
    report["timestamp"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    return report


def _fmt(s: dict[str, int]) -> str:
    return str(s["median"]) if s["min"] == s["max"] else f"{s['median']} ({s['min']}-{s['max']})"


SCENARIOS = {
    "counter": "1. Counter click",
    "table_cell": "2. One cell changed in a 200-row table (5 cells a row)",
    "list_append": "3. One row appended to a 200-row list",
}
SHORT = {"counter": "counter click", "table_cell": "table: 1 cell", "list_append": "list: +1 row"}


def _ws_row(label: str, r: dict[str, Any], source: str) -> tuple[str, ...]:
    return (
        label,
        _fmt(r["reply"]),
        str(r["reply"]["median"] + r["ws_header_in"]),
        _fmt(r["call"]),
        str(r["call"]["median"] + r["ws_header_out"]),
        source,
    )


def print_report(report: dict[str, Any]) -> None:
    lp, peers, doc, cfg = report["livepy"], report["peers"], report["documented"], report["config"]
    pyview, unicorn = peers.get("pyview"), peers.get("unicorn")
    print()
    print(
        f"Bytes per update, {cfg['updates']} updates per scenario; medians (range). "
        f"Python {cfg['python']}, {cfg['cpus']} CPUs, livepy at {cfg['git']}."
    )
    print(
        "Sizes are whole WebSocket message payloads unless noted; +hdr adds the RFC 6455 "
        "header (client frames are masked: +4 B)."
    )
    header = ("framework", "update (B)", "+hdr", "request (B)", "+hdr", "source")
    for key, title in SCENARIOS.items():
        print()
        print(title)
        rows: list[tuple[str, ...]] = [header, _ws_row("livepy (v2, msgpack)", lp[key], "measured")]
        if pyview is not None:
            name = f"pyview-web {pyview['versions']['pyview-web']} (Phoenix JSON)"
            rows.append(_ws_row(name, pyview[key], "measured"))
        if key == "counter":
            if unicorn is not None:
                u = unicorn
                rows.append(
                    (
                        f"django-unicorn {u['versions']['django-unicorn']} (HTTP POST)",
                        _fmt(u["reply"]),
                        "n/a",
                        _fmt(u["call"]),
                        "n/a",
                        "measured: HTTP bodies, headers not counted",
                    )
                )
            reply, event = doc["liveview_counter_reply"], doc["liveview_counter_event"]
            rows.append(
                (
                    "Phoenix LiveView 1.2 (JSON)",
                    str(reply),
                    str(reply + ws_header(reply, masked=False)),
                    str(event),
                    str(event + ws_header(event, masked=True)),
                    "documented, not measured",
                )
            )
        elif key == "table_cell":
            rows.append(
                (
                    "Livewire 3 (HTTP, morph)",
                    f"{doc['livewire_table_cell']:,}",
                    "n/a",
                    "",
                    "",
                    "documented (PR #10416), not measured",
                )
            )
            rows.append(("django-unicorn", "", "", "", "", "not measured"))
        else:
            rows.append(("django-unicorn, Livewire", "", "", "", "", "not measured"))
        print_table(rows)

    print()
    print("livepy reply breakdown (msgpack bytes inside the message)")
    rows = [
        (
            "scenario",
            "reply",
            "render diff",
            "snap patch",
            "framing",
            "full-html v2",
            "v1 reply",
            "component html",
        )
    ]
    for key, label in SHORT.items():
        r = lp[key]
        framing = str(r["framing"]["median"])
        if r["effects"]["max"]:
            framing += f" (+{r['effects']['median']} effects)"
        rows.append(
            (
                label,
                _fmt(r["reply"]),
                _fmt(r["render"]),
                _fmt(r["patch"]),
                framing,
                str(r["full_html_v2"]["median"]),
                str(r["v1"]["median"]),
                str(r["html"]["median"]),
            )
        )
    print_table(rows)
    print(
        "framing = frame type, ref, seq and the array header; full-html v2 = the same reply "
        "with the whole html as its render; v1 reply = protocol v1: whole html + snapshot "
        "with a 16-byte MAC."
    )
    kinds = ", ".join(f"{SHORT[k]}: {lp[k]['render_kinds']}" for k in SHORT)
    print(f"render kinds: {kinds}")

    row_html = lp["list_append"]["row_html"]["median"]
    row_state = lp["list_append"]["row_state"]["median"]
    counter = lp["counter"]["reply"]["median"]
    cell = lp["table_cell"]["reply"]["median"]
    append = lp["list_append"]["reply"]["median"]
    print()
    print("Against the targets:")
    print(f"  counter reply   {counter:>5} B  target <= {TARGETS['counter']} B")
    print(f"  table: 1 cell   {cell:>5} B  target <= {TARGETS['table_cell']} B")
    print(
        f"  list: +1 row    {append:>5} B  target ~ the row's own html, {row_html} B "
        f"(the row's state, {row_state} B of msgpack, also rides in the snapshot patch)"
    )
    print("  every scenario: a rejoin with the client's patched snapshot rendered the same html")
    print()
    for key, label in SHORT.items():
        ex = lp[key]["example"]
        print(f"last livepy {label}: render {ex['render']}  patch {ex['patch']}")
    print(f"JSON: {report['json_path']}  ({report['elapsed_s']} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--updates", type=int, default=20, help="updates per scenario (20)")
    parser.add_argument("--no-peers", action="store_true", help="skip pyview and unicorn")
    parser.add_argument(
        "--json", type=Path, default=RESULTS / "bytes.json", help="output (results/bytes.json)"
    )
    args = parser.parse_args()
    if not 1 <= args.updates <= 10_000:
        parser.error("--updates must be between 1 and 10000")
    run_and_report(lambda: run(args.updates, not args.no_peers), args.json, print_report)


if __name__ == "__main__":
    main()
