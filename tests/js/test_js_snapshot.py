"""js/snapshot.js: decoding v2 snapshots and applying snap_patch ops, prototype-safe."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from livepy.protocol.statepatch import diff_state
from tests.js.js_fake import MAC, b64url, pack, snapshot

pytestmark = pytest.mark.browser

IMPORT = "const s = await import('/js/snapshot.js');"


async def js(page: Any, body: str, arg: Any = None) -> Any:
    return await page.evaluate(f"async (arg) => {{ {IMPORT} {body} }}", arg)


async def patch(page: Any, state: dict[str, Any], ops: list[Any]) -> Any:
    """Apply `ops` in the page: the new state, or the refusal message."""
    return await js(
        page,
        """const before = JSON.stringify(arg[0]);
           try { return {state: s.patchState(arg[0], arg[1])}; }
           catch (err) {
             if (!(err instanceof s.SnapshotError)) throw err;
             // a refused patch leaves the old state untouched
             return {refused: err.message, untouched: JSON.stringify(arg[0]) === before};
           }""",
        [state, ops],
    )


async def test_decode_reads_the_snapshot_once(blank: Any) -> None:
    state = {"count": 7, "todos": [{"id": 1, "text": "a"}], "ratio": 0.5}
    got = await js(
        blank,
        """const snap = s.decodeSnapshot(arg);
           return [snap.name, snap.cid, snap.issuedAt, snap.state, Array.from(snap.mac),
                   snap.mac instanceof Uint8Array, s.snapshotWire(snap).length];""",
        b64url(pack(snapshot("c1", state, name="counter"))),
    )
    assert got == ["counter", "c1", 1_700_000_000, state, list(MAC), True, 5]


@pytest.mark.parametrize(
    "wire",
    [
        ["counter", "c1", 1, {}],  # too short
        ["counter", "c1", 1, [], MAC],  # state not a map
        ["counter", "c1", 1, {}, b"short"],  # mac of the wrong size
        ["counter", "c1", "soon", {}, MAC],  # issued_at not an int
        [1, "c1", 1, {}, MAC],  # name not a string
    ],
)
async def test_decode_refuses_what_is_not_a_snapshot(blank: Any, wire: list[Any]) -> None:
    got = await js(
        blank,
        "try { s.decodeSnapshot(arg); return 'decoded'; } catch (e) { return e.name; }",
        b64url(pack(wire)),
    )
    assert got == "SnapshotError"
    assert await js(blank, "try { s.decodeSnapshot('%%%'); } catch (e) { return e.name; }") == (
        "SnapshotError"
    )


async def test_set_delete_and_splice(blank: Any) -> None:
    state = {"a": 1, "b": {"c": [1, 2, 3], "d": "x"}, "gone": True}
    ops = [
        [["a"], 2],
        [["b", "d"], {"deep": None}],
        [["b", "new"], [1]],
        [["gone"]],
        [["b", "c"], 1, 1, ["two", "deux"]],
        [["b", "c", 0], 10],
        [["b", "c"], 4, 0, [4]],  # insert at the end
    ]
    got = await patch(blank, state, ops)
    assert got == {
        "state": {"a": 2, "b": {"c": [10, "two", "deux", 3, 4], "d": {"deep": None}, "new": [1]}}
    }


async def test_patch_is_copy_on_write(blank: Any) -> None:
    got = await js(
        blank,
        """const old = {keep: {x: 1}, list: [{y: 1}], n: 1};
           const next = s.patchState(old, [[["list", 0, "y"], 2]]);
           return [old.list[0].y, next.list[0].y, next.keep === old.keep, next !== old];""",
    )
    assert got == [1, 2, True, True]


async def test_whole_state_can_be_replaced(blank: Any) -> None:
    got = await patch(blank, {"a": 1}, [[[], {"b": 2}]])
    assert got == {"state": {"b": 2}}
    refused = await patch(blank, {"a": 1}, [[[], [1, 2]]])
    assert "root" in refused["refused"]


STATES = [
    ({"count": 1}, {"count": 2}),
    ({"todos": [{"id": 1, "t": "a"}]}, {"todos": [{"id": 1, "t": "a"}, {"id": 2, "t": "b"}]}),
    ({"todos": [{"id": 1}, {"id": 2}, {"id": 3}]}, {"todos": [{"id": 1}, {"id": 3}]}),
    ({"form": {"a": "x", "b": "y"}, "n": None}, {"form": {"a": "x", "c": [1]}, "n": 1.5}),
    ({"grid": [[1, 2], [3, 4]]}, {"grid": [[1, 2], [3, 5], [6]]}),
]


@pytest.mark.parametrize(("old", "new"), STATES)
async def test_server_patches_apply(blank: Any, old: dict[str, Any], new: dict[str, Any]) -> None:
    ops = diff_state(copy.deepcopy(old), copy.deepcopy(new))
    assert await patch(blank, old, ops) == {"state": new}


async def test_snapshot_patch_replaces_mac_and_issued_at(blank: Any) -> None:
    got = await js(
        blank,
        """const snap = s.decodeSnapshot(arg.attr);
           const same = s.patchSnapshot(snap, null);
           const a = s.patchSnapshot(snap, [null, [[["n"], 2]], new Uint8Array(8).fill(9)]);
           const b = s.patchSnapshot(a, [1800000000, [], new Uint8Array(8).fill(3)]);
           return [same === snap, a.issuedAt, a.state.n, Array.from(a.mac), b.issuedAt,
                   Array.from(b.mac), snap.state.n, Array.from(snap.mac)];""",
        {"attr": b64url(pack(snapshot("c1", {"n": 1})))},
    )
    assert got == [True, 1_700_000_000, 2, [9] * 8, 1_800_000_000, [3] * 8, 1, list(MAC)]


POLLUTION = [
    [[["__proto__", "polluted"], 1]],
    [[["constructor", "prototype", "polluted"], 1]],
    [[["a", "__proto__"], {"polluted": 1}]],
    [[["a", "constructor", "prototype", "polluted"], 1]],
    [[["__proto__"], {"polluted": 1}]],
    [[["prototype"], 1]],
    [[["__proto__"]]],
    [[["list", "__proto__"], 0, 0, [1]]],
    [[["toString"]]],  # inherited, not an own key: nothing to delete
    [[["toString", "polluted"], 1]],  # inherited: never walked into
    [[["a"], 5], [["__proto__", "polluted"], 1]],  # refused halfway: nothing applied
]


@pytest.mark.parametrize("ops", POLLUTION)
async def test_prototype_pollution_is_refused(blank: Any, ops: list[Any]) -> None:
    got = await patch(blank, {"a": {"b": 1}, "list": [1]}, ops)
    assert got.get("untouched") is True, got
    clean = await blank.evaluate(
        """() => ({}).polluted === undefined && Object.prototype.polluted === undefined &&
                 Array.prototype.polluted === undefined"""
    )
    assert clean is True


@pytest.mark.parametrize(
    "ops",
    [
        [[["missing", "x"], 1]],  # no such key on the way
        [[["a", "b", "c"], 1]],  # through a scalar
        [[["list", 5], 1]],  # index out of range
        [[["list", "0"], 1]],  # a string index into an array
        [[["a"], 0, 0, []]],  # splice on a map
        [[["list"], 0, 9, []]],  # deletes past the end
        [[["list", 0]]],  # delete applies to map keys, not array items
        [[["a"], 1, 2]],  # three elements: no such op
        "nope",
    ],
)
async def test_malformed_ops_are_refused(blank: Any, ops: Any) -> None:
    got = await patch(blank, {"a": {"b": 1}, "list": [1]}, ops)
    assert got.get("untouched") is True, got


async def test_a_proto_key_in_data_stays_data(blank: Any) -> None:
    # a value may carry a "__proto__" key (msgpack decodes it as an own property); setting a
    # whole value never walks into it
    got = await js(
        blank,
        """const { decode } = await import('/js/codec.js');
           const value = decode(new Uint8Array(arg));
           const next = s.patchState({}, [[["v"], value]]);
           return [Object.getPrototypeOf(next.v) === Object.prototype,
                   Object.hasOwn(next.v, "__proto__"), ({}).polluted === undefined];""",
        list(pack({"__proto__": {"polluted": 1}})),
    )
    assert got == [True, True, True]
