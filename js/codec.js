// msgpack encoder and decoder for wire frames and snapshots.
//
// Maps decode to plain objects, but a key such as "__proto__" becomes an own data property,
// so server data can never change an object's prototype.

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder("utf-8");
const SIZES = { u8: 1, u16: 2, u32: 4, i8: 1, i16: 2, i32: 4, f32: 4, f64: 8, u64: 8, i64: 8 };
const MAX_DEPTH = 256; // hostile nesting must fail with an Error, not blow the JS stack

/** Store key/value as an own property, even when the key names an Object.prototype accessor. */
export function setOwn(obj, key, value) {
  if (key === "__proto__") {
    const descriptor = { value, enumerable: true, writable: true, configurable: true };
    Object.defineProperty(obj, key, descriptor);
  } else {
    obj[key] = value;
  }
}

class Writer {
  constructor() {
    this.buf = new Uint8Array(256);
    this.view = new DataView(this.buf.buffer);
    this.pos = 0;
  }

  reserve(n) {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v) {
    this.reserve(1);
    this.buf[this.pos++] = v;
  }

  tagged(tag, kind, v) {
    this.u8(tag);
    this.put(kind, v);
  }

  put(kind, v) {
    const n = SIZES[kind];
    this.reserve(n);
    const view = this.view;
    const at = this.pos;
    if (kind === "u8") view.setUint8(at, v);
    else if (kind === "u16") view.setUint16(at, v);
    else if (kind === "u32") view.setUint32(at, v);
    else if (kind === "i8") view.setInt8(at, v);
    else if (kind === "i16") view.setInt16(at, v);
    else if (kind === "i32") view.setInt32(at, v);
    else if (kind === "f64") view.setFloat64(at, v);
    else if (kind === "u64") view.setBigUint64(at, v);
    else view.setBigInt64(at, v);
    this.pos += n;
  }

  bytes(b) {
    this.reserve(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  result() {
    return this.buf.slice(0, this.pos);
  }
}

function writeInt(w, n) {
  if (n >= 0) {
    if (n < 0x80) w.u8(n);
    else if (n < 0x100) w.tagged(0xcc, "u8", n);
    else if (n < 0x10000) w.tagged(0xcd, "u16", n);
    else if (n < 0x100000000) w.tagged(0xce, "u32", n);
    else w.tagged(0xcf, "u64", BigInt(n));
  } else if (n >= -32) w.u8(n & 0xff);
  else if (n >= -0x80) w.tagged(0xd0, "i8", n);
  else if (n >= -0x8000) w.tagged(0xd1, "i16", n);
  else if (n >= -0x80000000) w.tagged(0xd2, "i32", n);
  else w.tagged(0xd3, "i64", BigInt(n));
}

function writeBigInt(w, n) {
  if (n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER)) {
    writeInt(w, Number(n));
  } else if (n >= 0n && n < 2n ** 64n) w.tagged(0xcf, "u64", n);
  else if (n < 0n && n >= -(2n ** 63n)) w.tagged(0xd3, "i64", n);
  else throw new RangeError(`livepy codec: BigInt ${n} does not fit in 64 bits`);
}

// Length header: the fix form when it fits, else the 8/16/32-bit form (null = form absent).
function writeHeader(w, len, fix, fixMax, c8, c16, c32) {
  if (fix !== null && len <= fixMax) w.u8(fix | len);
  else if (c8 !== null && len < 0x100) w.tagged(c8, "u8", len);
  else if (len < 0x10000) w.tagged(c16, "u16", len);
  else w.tagged(c32, "u32", len);
}

function isPlainObject(v) {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function writeValue(w, v, depth) {
  if (depth > MAX_DEPTH) throw new RangeError("livepy codec: value nested too deeply");
  if (v === null || v === undefined) return w.u8(0xc0);
  switch (typeof v) {
    case "boolean":
      return w.u8(v ? 0xc3 : 0xc2);
    case "number":
      if (Number.isSafeInteger(v)) return writeInt(w, v + 0); // + 0 turns -0 into 0
      if (Number.isInteger(v) && v >= -(2 ** 63) && v < 2 ** 64) return writeBigInt(w, BigInt(v));
      return w.tagged(0xcb, "f64", v);
    case "bigint":
      return writeBigInt(w, v);
    case "string": {
      const b = utf8Encoder.encode(v);
      writeHeader(w, b.length, 0xa0, 31, 0xd9, 0xda, 0xdb);
      return w.bytes(b);
    }
    case "object":
      break;
    default:
      throw new TypeError(`livepy codec: cannot encode a ${typeof v}`);
  }
  if (v instanceof Uint8Array || v instanceof ArrayBuffer) {
    const b = v instanceof Uint8Array ? v : new Uint8Array(v);
    writeHeader(w, b.length, null, -1, 0xc4, 0xc5, 0xc6);
    return w.bytes(b);
  }
  if (Array.isArray(v)) {
    writeHeader(w, v.length, 0x90, 15, null, 0xdc, 0xdd);
    for (const item of v) writeValue(w, item, depth + 1);
    return;
  }
  let entries;
  if (v instanceof Map) entries = [...v.entries()];
  else if (isPlainObject(v)) entries = Object.entries(v);
  else throw new TypeError(`livepy codec: cannot encode a ${v.constructor?.name ?? "object"}`);
  writeHeader(w, entries.length, 0x80, 15, null, 0xde, 0xdf);
  for (const [key, item] of entries) {
    writeValue(w, key, depth + 1);
    writeValue(w, item, depth + 1);
  }
}

/** Encode a JS value as msgpack bytes. */
export function encode(value) {
  const w = new Writer();
  writeValue(w, value, 0);
  return w.result();
}

class Reader {
  constructor(bytes) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = 0;
  }

  need(n) {
    if (this.pos + n > this.bytes.length) {
      throw new RangeError(`livepy codec: truncated data at byte ${this.pos}`);
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }

  u8() {
    return this.bytes[this.need(1)];
  }

  num(kind) {
    const at = this.need(SIZES[kind]);
    const view = this.view;
    if (kind === "u16") return view.getUint16(at);
    if (kind === "u32") return view.getUint32(at);
    if (kind === "i8") return view.getInt8(at);
    if (kind === "i16") return view.getInt16(at);
    if (kind === "i32") return view.getInt32(at);
    if (kind === "f32") return view.getFloat32(at);
    if (kind === "f64") return view.getFloat64(at);
    const big = kind === "u64" ? view.getBigUint64(at) : view.getBigInt64(at);
    const small = Number(big);
    return Number.isSafeInteger(small) ? small : big;
  }

  str(len) {
    const at = this.need(len);
    return utf8Decoder.decode(this.bytes.subarray(at, at + len));
  }

  bin(len) {
    const at = this.need(len);
    return this.bytes.slice(at, at + len);
  }
}

// Each item takes at least one byte: a count beyond the remaining bytes is a lie, refused early
// instead of allocating for it.
function checkCount(r, count) {
  if (count > r.bytes.length - r.pos) {
    throw new RangeError(`livepy codec: truncated data, ${count} items announced at byte ${r.pos}`);
  }
}

function readArray(r, len, depth) {
  checkCount(r, len);
  const out = new Array(len);
  for (let i = 0; i < len; i++) out[i] = readValue(r, depth + 1);
  return out;
}

function readMap(r, len, depth) {
  checkCount(r, len * 2);
  const out = {};
  for (let i = 0; i < len; i++) {
    const key = readValue(r, depth + 1);
    if (key !== null && typeof key === "object") {
      throw new TypeError("livepy codec: map keys must be strings or numbers");
    }
    setOwn(out, String(key), readValue(r, depth + 1));
  }
  return out;
}

function readValue(r, depth) {
  if (depth > MAX_DEPTH) throw new RangeError("livepy codec: data nested too deeply");
  const b = r.u8();
  if (b < 0x80) return b;
  if (b >= 0xe0) return b - 0x100;
  if (b >= 0xa0 && b <= 0xbf) return r.str(b & 0x1f);
  if (b >= 0x90 && b <= 0x9f) return readArray(r, b & 0x0f, depth);
  if (b >= 0x80 && b <= 0x8f) return readMap(r, b & 0x0f, depth);
  switch (b) {
    case 0xc0: return null;
    case 0xc2: return false;
    case 0xc3: return true;
    case 0xc4: return r.bin(r.u8());
    case 0xc5: return r.bin(r.num("u16"));
    case 0xc6: return r.bin(r.num("u32"));
    case 0xca: return r.num("f32");
    case 0xcb: return r.num("f64");
    case 0xcc: return r.u8();
    case 0xcd: return r.num("u16");
    case 0xce: return r.num("u32");
    case 0xcf: return r.num("u64");
    case 0xd0: return r.num("i8");
    case 0xd1: return r.num("i16");
    case 0xd2: return r.num("i32");
    case 0xd3: return r.num("i64");
    case 0xd9: return r.str(r.u8());
    case 0xda: return r.str(r.num("u16"));
    case 0xdb: return r.str(r.num("u32"));
    case 0xdc: return readArray(r, r.num("u16"), depth);
    case 0xdd: return readArray(r, r.num("u32"), depth);
    case 0xde: return readMap(r, r.num("u16"), depth);
    case 0xdf: return readMap(r, r.num("u32"), depth);
    default:
      // ext types (0xc7-0xc9, 0xd4-0xd8) are not part of the livepy protocol
      throw new TypeError(`livepy codec: unsupported type byte 0x${b.toString(16)}`);
  }
}

/** Decode exactly one msgpack value that fills the whole buffer. */
export function decode(data) {
  const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
  const r = new Reader(bytes);
  const value = readValue(r, 0);
  if (r.pos !== bytes.length) {
    throw new RangeError(`livepy codec: ${bytes.length - r.pos} unexpected bytes after the value`);
  }
  return value;
}
