// Parser for directive expressions such as `remove('a', 2, true, null)`.
//
// Only a method name and literal arguments are accepted (numbers, quoted strings, true, false,
// null, JSON-like arrays and objects). Nothing is ever evaluated, so markup cannot run code.

import { setOwn } from "./codec.js";

const IDENT_START = /[A-Za-z_$]/;
const IDENT_PART = /[A-Za-z0-9_$]/;
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const ESCAPES = { n: "\n", r: "\r", t: "\t", b: "\b", f: "\f", v: "\v", 0: "\0" };
const MAX_DEPTH = 32;

class Parser {
  constructor(source) {
    this.src = String(source);
    this.pos = 0;
  }

  fail(expected) {
    const found = this.pos < this.src.length ? `"${this.src[this.pos]}"` : "the end";
    const where = `at position ${this.pos}, found ${found}`;
    throw new Error(`livepy: cannot parse "${this.src}": expected ${expected} ${where}`);
  }

  skipSpace() {
    while (this.pos < this.src.length && /\s/.test(this.src[this.pos])) this.pos++;
  }

  peek() {
    this.skipSpace();
    return this.src[this.pos];
  }

  eat(ch) {
    if (this.peek() !== ch) return false;
    this.pos++;
    return true;
  }

  expect(ch) {
    if (!this.eat(ch)) this.fail(`"${ch}"`);
  }

  identifier() {
    this.skipSpace();
    const start = this.pos;
    if (!IDENT_START.test(this.src[this.pos] ?? "")) this.fail("a name");
    while (this.pos < this.src.length && IDENT_PART.test(this.src[this.pos])) this.pos++;
    return this.src.slice(start, this.pos);
  }

  value(depth) {
    if (depth > MAX_DEPTH) this.fail("less nesting");
    const ch = this.peek();
    if (ch === "'" || ch === '"') return this.string();
    if (ch === "[") return this.array(depth);
    if (ch === "{") return this.object(depth);
    if (ch === "-" || (ch >= "0" && ch <= "9")) return this.number();
    if (ch !== undefined && IDENT_START.test(ch)) {
      const start = this.pos;
      const word = this.identifier();
      if (word === "true") return true;
      if (word === "false") return false;
      if (word === "null") return null;
      this.pos = start;
    }
    return this.fail("a literal (number, string, true, false, null, array or object)");
  }

  number() {
    NUMBER.lastIndex = this.pos;
    const match = NUMBER.exec(this.src);
    if (!match) this.fail("a number");
    this.pos += match[0].length;
    return Number(match[0]);
  }

  string() {
    const quote = this.src[this.pos++];
    let out = "";
    for (;;) {
      if (this.pos >= this.src.length) this.fail(`a closing ${quote}`);
      const ch = this.src[this.pos++];
      if (ch === quote) return out;
      if (ch !== "\\") {
        out += ch;
        continue;
      }
      const esc = this.src[this.pos++];
      if (esc === undefined) this.fail("an escaped character");
      if (esc === "u") {
        const hex = this.src.slice(this.pos, this.pos + 4);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail("four hex digits after \\u");
        out += String.fromCharCode(parseInt(hex, 16));
        this.pos += 4;
      } else {
        out += ESCAPES[esc] ?? esc;
      }
    }
  }

  array(depth) {
    this.pos++;
    const out = [];
    if (this.eat("]")) return out;
    do out.push(this.value(depth + 1));
    while (this.eat(","));
    this.expect("]");
    return out;
  }

  object(depth) {
    this.pos++;
    const out = {};
    if (this.eat("}")) return out;
    do {
      const ch = this.peek();
      const key = ch === "'" || ch === '"' ? this.string() : this.identifier();
      this.expect(":");
      setOwn(out, key, this.value(depth + 1));
    } while (this.eat(","));
    this.expect("}");
    return out;
  }

  end() {
    this.skipSpace();
    if (this.pos < this.src.length) this.fail("the end");
  }
}

/**
 * Parse `method` or `method(arg, ...)` into {method, args}.
 * Throws an Error naming the position of the first problem.
 */
export function parseCall(source) {
  const p = new Parser(source);
  const method = p.identifier();
  const args = [];
  if (p.eat("(")) {
    if (!p.eat(")")) {
      do args.push(p.value(0));
      while (p.eat(","));
      p.expect(")");
    }
  }
  p.end();
  return { method, args };
}

/** Parse one literal value (same grammar as call arguments). */
export function parseLiteral(source) {
  const p = new Parser(source);
  const value = p.value(0);
  p.end();
  return value;
}
