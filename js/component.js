// Client half of one server component: its snapshot and state, its html as the server last sent
// it, its ref and sequence numbers on the current connection, and the ordered queue of work
// waiting to be sent.
//
// At most one CALL is in flight per component. Work arriving meanwhile is queued in order and
// goes out as soon as the reply lands, so the server always sees input in the order it happened.
// Nothing is sent before the component's JOINED arrives: CALLs need the ref it carries.

import {
  ATTR_ID,
  ATTR_SNAPSHOT,
  DEFAULT_MAX_CALLS_PER_FRAME,
  FRAME_CALL,
  FRAME_RESYNC,
} from "./constants.js";
import { applyDiff } from "./diff.js";
import { runEffects } from "./effects.js";
import { emitHook } from "./hooks.js";
import { morph } from "./morph.js";
import { decodeSnapshot, patchSnapshot } from "./snapshot.js";

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

export class Component {
  /** `transport` provides send(frame) and isOpen(); `options.maxCalls` caps calls per frame. */
  constructor(el, transport, options = {}) {
    this.id = el.getAttribute(ATTR_ID);
    this.el = el;
    this.transport = transport;
    this.maxCalls = options.maxCalls ?? DEFAULT_MAX_CALLS_PER_FRAME;
    this.failure = null;
    try {
      this.snapshot = decodeSnapshot(el.getAttribute(ATTR_SNAPSHOT));
    } catch (err) {
      // Without a snapshot the server cannot rebuild the component: it stays a static page.
      console.error(`livepy: component ${this.id} cannot join:`, err.message);
      this.snapshot = null;
      this.failure = new LivepyError("snapshot_invalid", err.message);
    }
    this.ref = null; // handle on the current connection, from JOINED
    this.html = null; // root outerHTML as the server last sent it: the base of render diffs
    this.resyncing = false; // a RESYNC is out: diffs are useless until the full html arrives
    this.seq = 0;
    this.renders = 0; // count of morphs, so directives can tell their DOM changes were reset
    this.inflight = null;
    this.queue = [];
    this.timer = null;
    // What the latest reply changed: the state before it and the updates it answered, so a
    // focused field can tell a deliberate server change from an echo of its own input.
    this.lastReply = null;
  }

  /** The component's state as of the latest snapshot (a plain object; never mutated). */
  get state() {
    return this.snapshot?.state ?? {};
  }

  get joined() {
    return this.ref !== null;
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
    // A full batch is closed: later calls go out in the next frame, after its reply. So is one
    // that was sent already and waits to be sent again after a reconnect: it goes out unchanged.
    if (!batch || batch.sent || batch.calls.length >= this.maxCalls) {
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
    this.schedule();
    emitHook("busy", this);
    return done;
  }

  schedule() {
    if (this.timer !== null) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flush();
    }, BATCH_MS);
  }

  /** Send the oldest scheduled batch if nothing is in flight and the component is joined. */
  flush() {
    const batch = this.queue[0];
    if (!batch?.scheduled || this.inflight || this.failure || !this.joined) return;
    if (!this.transport.isOpen()) return;
    this.queue.shift();
    batch.sent = true;
    batch.seq = ++this.seq;
    this.inflight = batch;
    this.transport.send([FRAME_CALL, this.ref, batch.seq, batch.updates, batch.calls]);
    emitHook("busy", this);
  }

  /** A JOIN for this component is about to be sent: forget the old connection's ref. */
  rejoin() {
    this.ref = null;
    // A refused join may succeed on another connection (a process with the right key...).
    if (this.snapshot !== null) this.failure = null;
    this.resyncing = false;
    this.seq = 0;
    // The reply to the in-flight call is lost with the old socket, and the server rebuilds
    // from the snapshot we still hold, so the call is sent again, ahead of newer work.
    if (this.inflight) {
      this.queue.unshift(this.inflight);
      this.inflight = null;
    }
  }

  /**
   * JOINED: the component's ref on this connection and its full html, the new diff base.
   * Returns whether the DOM was morphed.
   */
  onJoined(ref, html, patch) {
    const previous = this.state;
    this.ref = ref;
    this.seq = 0;
    this.resyncing = false;
    this.applyPatch(patch);
    // After a reconnect the html is usually what we hold already: leaving the DOM alone then
    // keeps everything typed meanwhile, even in fields no directive knows about.
    const rendered = typeof html === "string" && html !== this.html && this.render(html);
    // Model values typed while there was no connection (or before the first one) go now,
    // rather than wait for the next action.
    for (const batch of this.queue) {
      if (!batch.scheduled && Object.keys(batch.updates).length > 0) {
        batch.scheduled = true;
        batch.targets.add("$sync");
      }
    }
    this.lastReply = { previous, sent: null };
    emitHook("updated", this);
    if (this.queue.some((b) => b.scheduled)) this.schedule();
    emitHook("busy", this);
    return rendered;
  }

  /** A REPLY (to a CALL, a RESYNC, or a server push); returns whether the DOM was morphed. */
  onReply(seq, render, patch, effects) {
    const previous = this.state;
    const rendered = this.applyRender(render);
    this.applyPatch(patch);
    let done = null;
    if (this.inflight && seq === this.inflight.seq) {
      done = this.inflight;
      this.inflight = null;
    }
    this.lastReply = { previous, sent: done?.updates ?? null };
    emitHook("updated", this);
    for (const waiter of done?.waiters ?? []) waiter.resolve(effects ?? null);
    if (effects !== null && effects !== undefined) {
      runEffects(this, effects);
      const detail = { component: this.id, effects };
      this.el.dispatchEvent(new CustomEvent("lp:effects", { bubbles: true, detail }));
    }
    this.flush();
    emitHook("busy", this);
    return rendered;
  }

  /** A REPLY's render: nil (unchanged), the full html, or a diff against `this.html`. */
  applyRender(render) {
    if (render === null || render === undefined) return false;
    if (typeof render === "string") {
      this.resyncing = false;
      return this.render(render);
    }
    if (this.resyncing) return false; // built on html we know is wrong; the full html is coming
    let html;
    try {
      if (this.html === null) throw new Error("no html to apply a diff to");
      html = applyDiff(this.html, render);
    } catch (err) {
      console.warn(`livepy: component ${this.id}: ${err.message}; asking for the full html`);
      this.resync();
      return false;
    }
    return this.render(html);
  }

  render(html) {
    this.html = html;
    try {
      this.el = morph(this.el, html);
      this.renders++;
      return true;
    } catch (err) {
      console.error(`livepy: cannot apply the new html of component ${this.id}`, err);
      return false;
    }
  }

  /** Apply a snap_patch; one that cannot be applied keeps the last good snapshot and resyncs. */
  applyPatch(patch) {
    if (patch === null || patch === undefined || this.snapshot === null) return;
    try {
      this.snapshot = patchSnapshot(this.snapshot, patch);
    } catch (err) {
      console.error(`livepy: component ${this.id}: refused a state patch:`, err.message);
      this.resync();
    }
  }

  /** Ask the server for the full html (and state): our copy is not what the server holds. */
  resync() {
    if (this.resyncing || !this.joined) return;
    this.resyncing = true;
    this.transport.send([FRAME_RESYNC, this.ref]);
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
