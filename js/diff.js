// Render diffs (protocol v2): `[crc, pos1, del1, ins1, pos2, del2, ins2, ...]` against the html
// the client last received for a component.
//
// Positions and lengths count UTF-16 code units of the OLD html (JS string indices), ascending
// and non-overlapping. The result is checked with crc32(utf8(new)) & 0xFFFF, the low 16 bits of
// the IEEE CRC-32 that Python's zlib.crc32 computes: a mismatch means the client's copy drifted
// from the server's, and the caller asks for the full html (RESYNC) instead of morphing.
//
// An inserted text is a string, or a list of parts: a string part is literal text, and two
// integers `start, length` copy that span of the old html (new markup mostly repeats markup
// the client already holds, such as the row before an appended row).

const utf8 = new TextEncoder();

// The IEEE 802.3 polynomial, reflected (0xEDB88320), one table entry per byte value.
const TABLE = new Uint32Array(256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  TABLE[n] = c >>> 0;
}

/** CRC-32 of `bytes` (a Uint8Array), as an unsigned int: equal to Python's zlib.crc32. */
export function crc32(bytes) {
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = TABLE[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** The 16-bit check a render diff carries for `html`. */
export function htmlCheck(html) {
  return crc32(utf8.encode(html)) & 0xffff;
}

/** A diff that is malformed, or does not fit the cached html (the caller resyncs). */
export class DiffError extends Error {
  constructor(message) {
    super(`livepy: ${message}`);
    this.name = "DiffError";
  }
}

/** Push the text of an insert given as parts (literals and `start, length` copies of `old`). */
function expandInsert(old, parts, pieces) {
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    if (typeof part === "string") {
      pieces.push(part);
      continue;
    }
    const length = parts[i + 1];
    const fits =
      Number.isSafeInteger(part) &&
      Number.isSafeInteger(length) &&
      part >= 0 &&
      length > 0 &&
      part + length <= old.length;
    if (!fits) throw new DiffError(`a copy of ${length} at ${part} does not fit the cached html`);
    pieces.push(old.slice(part, part + length));
    i++;
  }
}

/**
 * Apply a render diff to `old` and return the new html. Throws DiffError when the diff is
 * malformed, out of bounds, or its checksum does not match the result.
 */
export function applyDiff(old, diff) {
  if (!Array.isArray(diff) || diff.length < 1 || (diff.length - 1) % 3 !== 0) {
    throw new DiffError("a render diff is [crc, pos, del, ins, ...]");
  }
  const [crc] = diff;
  // Edits are relative to the old html and non-overlapping, so applying them from the last to
  // the first is the same as copying the old html left to right, splicing each one in.
  const pieces = [];
  let at = 0;
  for (let i = 1; i < diff.length; i += 3) {
    const pos = diff[i];
    const del = diff[i + 1];
    const ins = diff[i + 2];
    const fits =
      Number.isSafeInteger(pos) &&
      Number.isSafeInteger(del) &&
      (typeof ins === "string" || Array.isArray(ins)) &&
      pos >= at &&
      del >= 0 &&
      pos + del <= old.length;
    if (!fits) throw new DiffError(`render diff edit ${(i - 1) / 3} does not fit the cached html`);
    pieces.push(old.slice(at, pos));
    if (typeof ins === "string") pieces.push(ins);
    else expandInsert(old, ins, pieces);
    at = pos + del;
  }
  pieces.push(old.slice(at));
  const html = pieces.join("");
  if (htmlCheck(html) !== crc) throw new DiffError("render diff checksum mismatch");
  return html;
}
