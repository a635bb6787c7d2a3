// Client half of one server component: its latest snapshot and state, its sequence numbers,
// and the ordered queue of work waiting to be sent.
//
// At most one CALL is in flight per component. Work arriving meanwhile is queued in order and
// goes out as soon as the reply lands, so the server always sees input in the order it happened.

import { ATTR_ID, ATTR_SNAPSHOT, DEFAULT_MAX_CALLS_PER_FRAME, FRAME_CALL } from "./constants.js";
import { emitHook } from "./hooks.js";
import { morph } from "./morph.js";
import { fromBase64url, stateOf } from "./snapshot.js";

/** Actions fired within this window are sent as one CALL. */
export const BATCH_MS = 5;

/** A failure reported by the server (or the runtime) for a call. */
export class LivepyError extends Error {
  constructor(code, message, detail = null) {
    super(message);
    this.name = "LivepyError";
    this.code = code;
    this.detail = detail;
  }
}

// A batch is what one CALL frame carries. `scheduled` is false while it only holds model values
// waiting to ride along with the next real request.
function newBatch() {
  const updates = Object.create(null);
  return { updates, calls: [], waiters: [], targets: new Set(), scheduled: false };
}

function readState(snapshot, id) {
  try {
    return stateOf(snapshot);
  } catch (err) {
    console.warn(`livepy: cannot read the state of component ${id}`, err);
    return {};
  }
}

export class Component {
  /** `transport` provides send(frame) and isOpen(); `options.maxCalls` caps calls per frame. */
  constructor(el, transport, options = {}) {
    this.id = el.getAttribute(ATTR_ID);
    this.el = el;
    this.transport = transport;
    this.maxCalls = options.maxCalls ?? DEFAULT_MAX_CALLS_PER_FRAME;
    this.snapshot = fromBase64url(el.getAttribute(ATTR_SNAPSHOT) ?? "");
    this.state = readState(this.snapshot, this.id);
    this.seq = 0;
    this.renders = 0; // count of morphs, so directives can tell their DOM changes were reset
    this.joined = false;
    this.failure = null;
    this.inflight = null;
    this.queue = [];
    this.timer = null;
    // What the latest reply changed: the state before it and the updates it answered, so a
    // focused field can tell a deliberate server change from an echo of its own input.
    this.lastReply = null;
  }

  /** Call an @action on the server; resolves with the reply's effects (or null). */
  call(method, ...args) {
    if (typeof method !== "string" || method === "") {
      return Promise.reject(new TypeError("livepy: call() needs a method name"));
    }
    return this.enqueue(null, [method, args], method);
  }

  /** Set a model field on the server. */
  set(field, value) {
    this.defer(field, value);
    return this.commit(field);
  }

  /** Re-render without calling anything. */
  refresh() {
    return this.enqueue(null, null, "$refresh");
  }

  /** Record a model value to ride along with the next CALL, without sending one. */
  defer(field, value) {
    this.lastBatch().updates[field] = value;
  }

  /** Send deferred model values for `field` now, if any are still unsent. */
  commit(field) {
    const batch = this.queue.findLast((b) => field in b.updates);
    if (!batch) return Promise.resolve(null);
    return this.enqueue(batch, null, field);
  }

  /** The newest value of `field` not yet confirmed by a reply: {found, value}. */
  unsentValue(field) {
    for (const batch of [...this.queue].reverse().concat(this.inflight ?? [])) {
      if (field in batch.updates) return { found: true, value: batch.updates[field] };
    }
    return { found: false, value: undefined };
  }

  get busy() {
    return this.inflight !== null || this.queue.some((b) => b.scheduled);
  }

  /** Method and field names of the work in flight or about to be sent. */
  busyTargets() {
    const targets = new Set(this.inflight?.targets ?? []);
    for (const batch of this.queue) {
      if (batch.scheduled) batch.targets.forEach((t) => targets.add(t));
    }
    return targets;
  }

  lastBatch() {
    let batch = this.queue[this.queue.length - 1];
    // A full batch is closed: later calls go out in the next frame, after its reply.
    if (!batch || batch.calls.length >= this.maxCalls) {
      batch = newBatch();
      this.queue.push(batch);
    }
    return batch;
  }

  enqueue(batch, call, target) {
    if (this.failure) return Promise.reject(this.failure);
    const into = batch ?? this.lastBatch();
    if (call) into.calls.push(call);
    into.targets.add(target);
    into.scheduled = true;
    const done = new Promise((resolve, reject) => into.waiters.push({ resolve, reject }));
    if (this.timer === null) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.flush();
      }, BATCH_MS);
    }
    emitHook("busy", this);
    return done;
  }

  /** Send the oldest scheduled batch if nothing is in flight and the component is joined. */
  flush() {
    const batch = this.queue[0];
    if (!batch?.scheduled || this.inflight || this.failure || !this.joined) return;
    if (!this.transport.isOpen()) return;
    this.queue.shift();
    batch.seq = ++this.seq;
    this.inflight = batch;
    this.transport.send([FRAME_CALL, this.id, batch.seq, batch.updates, batch.calls]);
    emitHook("busy", this);
  }

  /** A JOIN for this component is about to be sent: sequence numbers restart for the new join. */
  rejoin() {
    this.joined = false;
    this.failure = null;
    this.seq = 0;
    // The reply to the in-flight call is lost with the old socket, and the server rebuilds
    // from the snapshot we still hold, so the call is sent again, ahead of newer work.
    if (this.inflight) {
      this.queue.unshift(this.inflight);
      this.inflight = null;
    }
  }

  onReply(seq, html, snapshot, effects) {
    if (html !== null && html !== undefined) {
      try {
        this.el = morph(this.el, html);
        this.renders++;
      } catch (err) {
        console.error(`livepy: cannot apply the new html of component ${this.id}`, err);
      }
    }
    const previous = this.state;
    if (snapshot instanceof Uint8Array) {
      this.snapshot = snapshot;
      this.state = readState(snapshot, this.id);
    }
    if (seq === 0) this.joined = true;
    let done = null;
    if (this.inflight && seq === this.inflight.seq) {
      done = this.inflight;
      this.inflight = null;
    }
    this.lastReply = { previous, sent: done?.updates ?? null };
    emitHook("updated", this);
    for (const waiter of done?.waiters ?? []) waiter.resolve(effects ?? null);
    if (effects !== null && effects !== undefined) {
      const detail = { component: this.id, effects };
      this.el.dispatchEvent(new CustomEvent("lp:effects", { bubbles: true, detail }));
    }
    this.flush();
    emitHook("busy", this);
  }

  onError(error, seq) {
    if (this.inflight && seq === this.inflight.seq) {
      this.abortInflight(error);
    } else if (!this.joined && (seq === null || seq === undefined || seq === 0)) {
      // The join itself was refused (bad or expired snapshot...): nothing queued can succeed.
      this.failure = error;
      this.abortInflight(error);
      for (const batch of this.queue.splice(0)) batch.waiters.forEach((w) => w.reject(error));
      emitHook("busy", this);
    }
  }

  /** Reject the in-flight call and move on to the queued work. */
  abortInflight(error) {
    const batch = this.inflight;
    if (!batch) return;
    this.inflight = null;
    batch.waiters.forEach((w) => w.reject(error));
    this.flush();
    emitHook("busy", this);
  }

  /** The root left the page: nothing pending can complete any more. */
  destroy() {
    const error = new LivepyError("removed", `component ${this.id} was removed from the page`);
    clearTimeout(this.timer);
    const batches = this.queue.splice(0).concat(this.inflight ?? []);
    this.inflight = null;
    this.failure = error;
    for (const batch of batches) batch.waiters.forEach((w) => w.reject(error));
  }
}
