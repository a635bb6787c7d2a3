// Signed snapshots (protocol v2): decoded once from markup, then kept current with patches.
//
// A snapshot is [name, cid, issued_at, state, mac]. The client holds it as
// {name, cid, issuedAt, state, mac}: it never re-signs or re-encodes it byte for byte, because the
// server verifies a canonical form (sorted keys, integral floats as ints) of whatever comes back.
//
// Patches change the state copy-on-write: containers along each op's path are copied once per
// patch, so the state object a directive kept from before the patch never changes under it, and a
// patch that fails halfway leaves the snapshot exactly as it was (old state with its old mac,
// still a valid pair for a rejoin).

import { decode } from "./codec.js";
import { MAC_BYTES } from "./constants.js";

// Path segments that would reach a prototype instead of data. Never walked, never written.
const FORBIDDEN = new Set(["__proto__", "constructor", "prototype"]);

/** A snapshot or patch the client refuses to apply; the caller resyncs. */
export class SnapshotError extends Error {
  constructor(message) {
    super(`livepy: ${message}`);
    this.name = "SnapshotError";
  }
}

/** Decode base64url (with or without padding) into bytes. */
export function fromBase64url(text) {
  const b64 = String(text).replace(/-/g, "+").replace(/_/g, "/").replace(/=+$/, "");
  const binary = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function isMap(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value) &&
    !(value instanceof Uint8Array);
}

function checkMac(mac) {
  if (!(mac instanceof Uint8Array) || mac.length !== MAC_BYTES) {
    throw new SnapshotError(`a snapshot mac must be ${MAC_BYTES} bytes`);
  }
  return mac;
}

function checkIssuedAt(value) {
  if (!Number.isSafeInteger(value)) throw new SnapshotError("issued_at must be an integer");
  return value;
}

/** The snapshot in an lp-snapshot attribute value; throws SnapshotError when it is not one. */
export function decodeSnapshot(attribute) {
  let wire;
  try {
    wire = decode(fromBase64url(attribute ?? ""));
  } catch (err) {
    throw new SnapshotError(`lp-snapshot is not a msgpack snapshot (${err.message})`);
  }
  if (!Array.isArray(wire) || wire.length !== 5) {
    throw new SnapshotError("lp-snapshot must be [name, cid, issued_at, state, mac]");
  }
  const [name, cid, issuedAt, state, mac] = wire;
  if (typeof name !== "string" || typeof cid !== "string") {
    throw new SnapshotError("a snapshot's name and cid must be strings");
  }
  if (!isMap(state)) throw new SnapshotError("a snapshot's state must be a map");
  return { name, cid, issuedAt: checkIssuedAt(issuedAt), state, mac: checkMac(mac) };
}

/** The snapshot as the array a JOIN carries. */
export function snapshotWire(snapshot) {
  return [snapshot.name, snapshot.cid, snapshot.issuedAt, snapshot.state, snapshot.mac];
}

function copyOf(value) {
  // Spread defines own properties, so a "__proto__" data key stays a plain key.
  return Array.isArray(value) ? value.slice() : { ...value };
}

function isIndex(key, array, { allowEnd = false } = {}) {
  const limit = allowEnd ? array.length : array.length - 1;
  return Number.isSafeInteger(key) && key >= 0 && key <= limit;
}

function mapKey(key) {
  if (typeof key !== "string" && !Number.isSafeInteger(key)) {
    throw new SnapshotError(`path segment ${JSON.stringify(key)} is not a map key`);
  }
  const text = String(key);
  if (FORBIDDEN.has(text)) throw new SnapshotError(`refused path segment "${text}"`);
  return text;
}

// Copy-on-write walker over one patch: `copied` holds the containers this patch owns already.
class Patcher {
  constructor(state) {
    this.copied = new Set();
    this.root = this.own(state);
  }

  own(container) {
    if (this.copied.has(container)) return container;
    const copy = copyOf(container);
    this.copied.add(copy);
    return copy;
  }

  // The container at `path` (copied, so it may be written), checking every step.
  reach(path) {
    let node = this.root;
    for (const key of path) {
      const child = this.childKey(node, key);
      const value = node[child];
      if (value === null || typeof value !== "object" || value instanceof Uint8Array) {
        throw new SnapshotError(`path ${JSON.stringify(path)} goes through a scalar`);
      }
      node[child] = this.own(value);
      node = node[child];
    }
    return node;
  }

  // `key` as a property of `node` that exists (own properties only).
  childKey(node, key) {
    if (Array.isArray(node)) {
      if (!isIndex(key, node)) throw new SnapshotError(`no index ${JSON.stringify(key)}`);
      return key;
    }
    const text = mapKey(key);
    if (!Object.hasOwn(node, text)) throw new SnapshotError(`no key "${text}"`);
    return text;
  }

  set(path, value) {
    if (path.length === 0) {
      // Replacing the whole state: what a server sends when the client must resync its state.
      if (!isMap(value)) throw new SnapshotError("the state root must be a map");
      this.root = value;
      this.copied.add(value);
      return;
    }
    const parent = this.reach(path.slice(0, -1));
    const key = path[path.length - 1];
    if (Array.isArray(parent)) {
      if (!isIndex(key, parent)) throw new SnapshotError(`no index ${JSON.stringify(key)}`);
      parent[key] = value;
    } else {
      // Assignment is safe: the key is never "__proto__", so no setter is reached.
      parent[mapKey(key)] = value;
    }
  }

  delete(path) {
    if (path.length === 0) throw new SnapshotError("cannot delete the state root");
    const parent = this.reach(path.slice(0, -1));
    if (Array.isArray(parent)) throw new SnapshotError("delete applies to map keys only");
    const key = mapKey(path[path.length - 1]);
    if (!Object.hasOwn(parent, key)) throw new SnapshotError(`no key "${key}" to delete`);
    delete parent[key];
  }

  splice(path, start, count, items) {
    if (path.length === 0) throw new SnapshotError("cannot splice the state root");
    const target = this.reach(path);
    if (!Array.isArray(target)) throw new SnapshotError("splice applies to arrays only");
    if (!isIndex(start, target, { allowEnd: true })) throw new SnapshotError("bad splice start");
    if (!Number.isSafeInteger(count) || count < 0 || start + count > target.length) {
      throw new SnapshotError("bad splice count");
    }
    if (!Array.isArray(items)) throw new SnapshotError("splice items must be an array");
    target.splice(start, count, ...items);
  }

  apply(op) {
    if (!Array.isArray(op) || !Array.isArray(op[0])) throw new SnapshotError("malformed op");
    const path = op[0];
    if (op.length === 2) this.set(path, op[1]);
    else if (op.length === 1) this.delete(path);
    else if (op.length === 4) this.splice(path, op[1], op[2], op[3]);
    else throw new SnapshotError(`an op has 1, 2 or 4 elements, not ${op.length}`);
  }
}

/** Apply `ops` to `state` and return the new state; `state` itself is left untouched. */
export function patchState(state, ops) {
  if (!Array.isArray(ops)) throw new SnapshotError("snap_patch ops must be an array");
  const patcher = new Patcher(state);
  for (const op of ops) patcher.apply(op);
  return patcher.root;
}

/**
 * The snapshot after a snap_patch `[issued_at | nil, ops, mac]` (nil patch: the same snapshot).
 * Throws SnapshotError without changing anything when the patch cannot be applied.
 */
export function patchSnapshot(snapshot, patch) {
  if (patch === null || patch === undefined) return snapshot;
  if (!Array.isArray(patch) || patch.length !== 3) {
    throw new SnapshotError("snap_patch must be [issued_at, ops, mac]");
  }
  const [issuedAt, ops, mac] = patch;
  const next = {
    ...snapshot,
    issuedAt: issuedAt === null ? snapshot.issuedAt : checkIssuedAt(issuedAt),
    mac: checkMac(mac),
  };
  next.state = patchState(snapshot.state, ops);
  return next;
}

/** Value at a dotted path such as "form.email" in state, or undefined; own properties only. */
export function lookup(state, path) {
  let value = state;
  for (const part of path.split(".")) {
    const isObject = value !== null && typeof value === "object";
    if (!isObject || !Object.hasOwn(value, part)) return undefined;
    value = value[part];
  }
  return value;
}
