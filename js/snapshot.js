// Signed snapshots: read them from markup and peek at the state they carry.
//
// The client never edits a snapshot (the MAC would break); it only reads the state so that
// lp-model fields can show the server's values.

import { decode } from "./codec.js";
import { MAC_BYTES, SNAPSHOT_VERSION } from "./constants.js";

/** Decode base64url (with or without padding) into bytes. */
export function fromBase64url(text) {
  const b64 = String(text).replace(/-/g, "+").replace(/_/g, "/").replace(/=+$/, "");
  const binary = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** The state map inside a snapshot; throws if the snapshot is not a livepy snapshot. */
export function stateOf(snapshot) {
  if (!(snapshot instanceof Uint8Array) || snapshot.length <= MAC_BYTES) {
    throw new Error("livepy: snapshot is missing or too short");
  }
  const body = decode(snapshot.subarray(0, snapshot.length - MAC_BYTES));
  if (!Array.isArray(body) || body[0] !== SNAPSHOT_VERSION || body.length < 5) {
    throw new Error(`livepy: unsupported snapshot layout (version ${JSON.stringify(body?.[0])})`);
  }
  const state = body[4];
  return state !== null && typeof state === "object" && !Array.isArray(state) ? state : {};
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
