"""js/codec.js in real Chromium, checked byte for byte against the Python msgpack library."""

from __future__ import annotations

import base64
from typing import Any

import msgpack
import pytest

pytestmark = pytest.mark.browser

IMPORT = "const c = await import('/js/codec.js');"


async def js(page: Any, body: str, arg: Any = None) -> Any:
    return await page.evaluate(f"async (arg) => {{ {IMPORT} {body} }}", arg)


def pack(value: Any) -> bytes:
    return msgpack.packb(value, use_bin_type=True)


KNOWN_JS = """[1, "a", null, true, 1.5, -1, 300, 70000, -33, -200, -40000, -3000000000,
  2 ** 40, 4294967295, "é漢🙂", new Uint8Array([0, 255, 7]),
  {k: [1, {n: null, f: false}], "": -0.25}]"""
KNOWN_PY = [
    1, "a", None, True, 1.5, -1, 300, 70000, -33, -200, -40000, -3000000000,
    2**40, 4294967295, "é漢🙂", b"\x00\xff\x07",
    {"k": [1, {"n": None, "f": False}], "": -0.25},
]  # fmt: skip


async def test_encode_matches_python_msgpack(blank: Any) -> None:
    got = await js(blank, f"return Array.from(c.encode({KNOWN_JS}));")
    expected = pack(KNOWN_PY)
    assert bytes(got) == expected
    # the smallest forms really were used: fixint, uint16 (cd), uint32 (ce), int8 (d0), float64
    assert expected[:4] == bytes([0xDC, 0x00, 0x11, 0x01])  # array16 of 17 items, then fixint 1
    for marker in (b"\xcd\x01\x2c", b"\xce\x00\x01\x11\x70", b"\xd0\xdf", b"\xcb\x3f\xf8"):
        assert marker in expected


async def test_decode_python_bytes(blank: Any) -> None:
    got = await js(
        blank,
        """
        const v = c.decode(new Uint8Array(arg));
        v[15] = {bin: Array.from(v[15]), isBytes: v[15] instanceof Uint8Array};
        return v;
        """,
        list(pack(KNOWN_PY)),
    )
    expected = list(KNOWN_PY)
    expected[15] = {"bin": [0, 255, 7], "isBytes": True}
    assert got == expected


async def test_big_integers(blank: Any) -> None:
    values = [2**53 - 1, -(2**53) + 1, 2**53 + 2, 2**63, 2**64 - 1, -(2**63), -(2**53) - 2]
    got = await js(
        blank,
        """
        return arg.map((bytes) => {
          const v = c.decode(new Uint8Array(bytes));
          return [typeof v, String(v), Array.from(c.encode(v))];
        });
        """,
        [list(pack(v)) for v in values],
    )
    kinds = [kind for kind, _, _ in got]
    assert kinds == ["number", "number", "bigint", "bigint", "bigint", "bigint", "bigint"]
    assert [int(text) for _, text, _ in got] == values
    assert [bytes(encoded) for _, _, encoded in got] == [pack(v) for v in values]


async def test_encode_number_forms(blank: Any) -> None:
    got = await js(
        blank,
        """
        const hex = (v) =>
          Array.from(c.encode(v)).map((b) => b.toString(16).padStart(2, "0")).join("");
        return [hex(-0), hex(2 ** 60), hex(-(2 ** 62)), hex(0.1), hex(1e300), hex(undefined),
                hex(2n ** 64n - 1n), hex(-32), hex(-33), hex(127), hex(128), hex(255), hex(256)];
        """,
    )
    expected = [
        pack(0),
        pack(2**60),
        pack(-(2**62)),
        pack(0.1),
        pack(1e300),
        pack(None),
        pack(2**64 - 1),
        pack(-32),
        pack(-33),
        pack(127),
        pack(128),
        pack(255),
        pack(256),
    ]
    assert [bytes.fromhex(h) for h in got] == expected


async def test_float32_decodes(blank: Any) -> None:
    got = await js(blank, "return c.decode(new Uint8Array([0xca, 0x3f, 0xc0, 0, 0]));")
    assert got == 1.5


@pytest.mark.parametrize("size", [0, 15, 16, 31, 32, 255, 256, 65535, 65536])
async def test_length_boundaries(blank: Any, size: int) -> None:
    """Every header width of str, bin, array and map, both directions."""
    value = ["x" * size, bytes([9]) * size, [True] * size, {f"k{i}": i % 3 for i in range(size)}]
    expected = pack(value)
    got = await js(
        blank,
        """
        const [n, b64] = arg;
        const expected = Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
        const map = {};
        for (let i = 0; i < n; i++) map["k" + i] = i % 3;
        const value = ["x".repeat(n), new Uint8Array(n).fill(9), new Array(n).fill(true), map];
        const bytes = c.encode(value);
        const firstDiff = bytes.findIndex((b, i) => b !== expected[i]);
        const back = c.decode(expected);
        const same = back[0] === value[0] && back[1].length === n && back[1].every((b) => b === 9)
          && back[2].length === n && back[2].every((b) => b === true)
          && JSON.stringify(back[3]) === JSON.stringify(map);
        return {length: bytes.length, firstDiff, same};
        """,
        [size, base64.b64encode(expected).decode()],
    )
    assert got == {"length": len(expected), "firstDiff": -1, "same": True}


async def test_map_keys_cannot_pollute_prototypes(blank: Any) -> None:
    hostile = pack(
        {
            "__proto__": {"polluted": "yes"},
            "constructor": {"prototype": {"polluted": "yes"}},
            "toString": "shadowed",
            "7": "int-like",
        }
    )
    got = await js(
        blank,
        """
        const v = c.decode(new Uint8Array(arg));
        const probe = {};
        return {
          globalPolluted: probe.polluted ?? Object.prototype.polluted ?? null,
          protoIsObject: Object.getPrototypeOf(v) === Object.prototype,
          ownProto: Object.hasOwn(v, "__proto__"),
          ownProtoValue: Object.getOwnPropertyDescriptor(v, "__proto__").value.polluted,
          viaProto: v.polluted ?? null,
          keys: Object.keys(v),
          ctor: v.constructor.prototype.polluted,
          fnProto: Function.prototype.polluted ?? null,
        };
        """,
        list(hostile),
    )
    assert got == {
        "globalPolluted": None,
        "protoIsObject": True,
        "ownProto": True,
        "ownProtoValue": "yes",  # the data arrived, as data
        "viaProto": None,
        "keys": ["7", "__proto__", "constructor", "toString"],
        "ctor": "yes",
        "fnProto": None,
    }


async def test_integer_map_keys_become_strings(blank: Any) -> None:
    got = await js(blank, "return c.decode(new Uint8Array(arg));", list(pack({1: "a", -2: "b"})))
    assert got == {"1": "a", "-2": "b"}


BAD_INPUT = {
    "truncated str": list(pack("hello"))[:-1],
    "truncated array": [0x93, 1, 2],
    "trailing bytes": [0x01, 0x02],
    "ext type": [0xD4, 1, 0],
    "never-used byte": [0xC1],
    "lying array count": [0xDD, 0xFF, 0xFF, 0xFF, 0xFF],
    "lying map count": [0xDF, 0xFF, 0xFF, 0xFF, 0xFF, 1],
    "too deep": [0x91] * 5000 + [0xC0],
    "empty": [],
    "array as map key": [0x81, 0x90, 0x01],
}


@pytest.mark.parametrize("name", sorted(BAD_INPUT))
async def test_bad_input_throws(blank: Any, name: str) -> None:
    got = await js(
        blank,
        """
        try { c.decode(new Uint8Array(arg)); return "decoded"; }
        catch (err) { return [err.constructor.name, err.message]; }
        """,
        BAD_INPUT[name],
    )
    assert got != "decoded"
    kind, message = got
    assert kind in ("RangeError", "TypeError")
    assert message.startswith("livepy codec:")


async def test_unencodable_values_throw(blank: Any) -> None:
    got = await js(
        blank,
        """
        const out = [];
        for (const v of [() => 1, Symbol("s"), new Date(0), 2n ** 64n, new Set([1])]) {
          try { c.encode([v]); out.push("encoded"); }
          catch (err) { out.push(err.constructor.name); }
        }
        return out;
        """,
    )
    assert got == ["TypeError", "TypeError", "TypeError", "RangeError", "TypeError"]


async def test_null_prototype_objects_and_maps_encode(blank: Any) -> None:
    got = await js(
        blank,
        """
        const o = Object.create(null); o.a = 1;
        return Array.from(c.encode([o, new Map([["b", 2]])]));
        """,
    )
    assert bytes(got) == pack([{"a": 1}, {"b": 2}])
