// The HTTP transport: the runtime's fallback when WebSockets are blocked (or `transport: "http"`).
//
// Same interface as the WebSocket transport in socket.js:
//   new HttpTransport(config, {onOpen, onFrame, onDown}); connect(); send(frame) -> bool;
//   isOpen(); close()
//
// Wire: `POST {base}/update` with a msgpack array of client frames, answered by a msgpack array
// of server frames; `GET {base}/events`, a Server-Sent Events stream of server pushes (today only
// PINGs). `{base}` is `config.http`, or `config.ws` without its trailing "/ws".
//
// The server keeps nothing between requests: every request rebuilds its components from the
// signed snapshots it carries. So this transport pretends to be one stateful connection:
//
// - It keeps, per component id, the latest snapshot. It learns it from the runtime's JOIN frames,
//   then keeps it current by applying the snap_patch of every JOINED and REPLY it receives.
// - A runtime JOIN is posted as is. The server's JOINED frames carry refs 1..n of that request;
//   the runtime gets them with refs this transport hands out (one fresh ref per JOINED, unique
//   for the life of the transport), and later CALL/RESYNC frames are mapped back by that ref.
// - A CALL is posted as `[JOIN(its component), CALL(ref 1, seq 1)]`. Calls for one component go
//   one request at a time, in order: calls queued while a request is out go together in the
//   next one (seq 1..k), so each starts from the snapshot the previous one produced.
// - The server answers a CALL request with `[JOINED, REPLY...]`. The JOINED is not passed on: its
//   html is the base the REPLY's render diff applies to, so this transport applies the diff and
//   hands the runtime a REPLY whose render is the full new html (or nil when unchanged). The
//   runtime never sees a diff in HTTP mode and never needs a RESYNC. (The JOINED html costs bytes
//   on every call: the HTTP fallback trades bytes for working through any proxy.)
// - REPLY and ERROR frames get the runtime's ref and seq back; an ERROR without a component id
//   gets the id of the component whose request it answers.
// - A RESYNC is answered with a REPLY carrying the full html of a fresh JOIN.
//
// Broadcast pushes: the events stream opens with an SSE event `stream` carrying a token. Every
// POST then sends it in `X-Livepy-Stream`, and the server (re)joins the components the POST ended
// with to the stream's own live session (livepy/transport/stream.py); when the token arrives (or
// changes, after the stream reconnected) this transport announces every held component in one
// POST. The stream's JOINED frames only teach it the stream's refs; a pushed REPLY carries the
// full html and the whole state, so it applies whatever this transport holds, and goes to the
// runtime as a REPLY for the last answered seq, as over the WebSocket. SUBSCRIBE, UNSUBSCRIBE and
// WHISPER frames (channels.js) are posted with the token too, so they run in the stream's session;
// the page's channels are subscribed again on every new stream; a whisper before the first token
// is dropped (whispers are ephemeral).
//
// Failures: a network error or a 5xx takes the transport down (onDown), and it reconnects with
// backoff and jitter by probing with an empty batch; the runtime then joins again. A 403 (origin
// or CSRF check refused) stops for good, like the WebSocket's 4403. A 413 or 400 becomes an
// ERROR frame for the calls in that request.

import { decode, encode } from "./codec.js";
import { applyDiff } from "./diff.js";
import {
  ERR_BAD_FRAME,
  ERR_FRAME_TOO_LARGE,
  ERR_NOT_JOINED,
  FRAME_CALL,
  FRAME_ERROR,
  FRAME_EVENT,
  FRAME_JOIN,
  FRAME_JOINED,
  FRAME_PING,
  FRAME_PONG,
  FRAME_REPLY,
  FRAME_RESYNC,
  FRAME_SUBSCRIBE,
  FRAME_UNSUBSCRIBE,
  FRAME_WHISPER,
  WS_CLOSE_ORIGIN_REFUSED,
} from "./constants.js";
import { patchSnapshot } from "./snapshot.js";

export const CSRF_HEADER = "X-Livepy";
export const STREAM_HEADER = "X-Livepy-Stream";
// On an answer: the number of the last push its outcome supersedes (a push's seq is its number).
export const PUSHED_HEADER = "X-Livepy-Pushed";
export const MSGPACK = "application/msgpack";
export const BACKOFF_BASE_MS = 250;
export const DEFAULT_RECONNECT_MAX_DELAY = 10; // seconds, config `reconnect_max_delay`
export const DEFAULT_HTTP_TIMEOUT = 60; // seconds, config `http_timeout`: one request at most
const MAX_FRAMES_PER_REQUEST = 32; // the server takes up to 64
const CLOSED = 1000;
const ABNORMAL = 1006;

/** `{base}` of the HTTP routes, from config.http or config.ws ("/livepy/ws" -> "/livepy"). */
export function httpBase(config) {
  if (config.http) return String(config.http).replace(/\/$/, "");
  const ws = String(config.ws ?? "/livepy/ws").replace(/\/ws\/?$/, "");
  return ws.replace(/^ws(s?):\/\//, "http$1://");
}

/** Read standard base64 into bytes. */
function fromBase64(text) {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** A transport-level refusal, as the ERROR frame the runtime understands. */
function errorFrame(code, message, cid, seq) {
  return [FRAME_ERROR, code, message, cid, seq, null];
}

class HttpError extends Error {
  constructor(status, code, message) {
    super(`livepy: HTTP ${status} ${code}: ${message}`);
    this.status = status;
    this.code = code;
    this.detail = message;
  }
}

export class HttpTransport {
  constructor(config, handlers) {
    const base = httpBase(config);
    this.updateUrl = `${base}/update`;
    this.eventsUrl = `${base}/events`;
    this.handlers = handlers;
    this.maxDelayMs = 1000 * (config.reconnect_max_delay ?? DEFAULT_RECONNECT_MAX_DELAY);
    this.timeoutMs = 1000 * (config.http_timeout ?? DEFAULT_HTTP_TIMEOUT);
    // cid -> {snapshot, ref, queue: [{seq, frame} | {resync}], busy, lastSeq}
    this.held = new Map();
    this.byRef = new Map(); // ref handed to the runtime -> cid
    this.nextRef = 1;
    this.open = false;
    this.connecting = false;
    this.stopped = false;
    this.attempts = 0;
    this.timer = null;
    this.source = null;
    this.sourceTimer = null;
    this.sourceAttempts = 0;
    this.lastEvent = 0; // when the events stream last delivered something (for debugging)
    this.streamId = null; // token of the open events stream (its live session hears broadcasts)
    this.streamRefs = new Map(); // ref in the stream's session -> cid
    this.channelNames = new Set(); // channels the page subscribed to (channels.js)
    this.controllers = new Set(); // AbortControllers of requests in flight
    this.generation = 0; // bumped on every down: answers from before are dropped
    this.onWake = () => {
      if (document.visibilityState !== "hidden") this.wake();
    };
    window.addEventListener("online", this.onWake);
    document.addEventListener("visibilitychange", this.onWake);
  }

  isOpen() {
    return this.open;
  }

  /** Probe the server with an empty batch; open when it answers. */
  connect() {
    if (this.stopped || this.open || this.connecting) return;
    clearTimeout(this.timer);
    this.timer = null;
    this.connecting = true;
    const generation = this.generation;
    this.post([])
      .then(() => {
        this.connecting = false;
        if (this.stopped || generation !== this.generation) return;
        this.open = true;
        this.attempts = 0;
        this.listen();
        this.handlers.onOpen();
      })
      .catch((err) => {
        this.connecting = false;
        if (!this.stopped) this.failed(err, false);
      });
  }

  send(frame) {
    if (!this.open || !Array.isArray(frame)) return false;
    const [type] = frame;
    if (type === FRAME_JOIN) this.join(frame);
    else if (type === FRAME_CALL) this.enqueue(frame[1], { seq: frame[2], frame });
    else if (type === FRAME_RESYNC) this.enqueue(frame[1], { resync: true });
    else if (type === FRAME_SUBSCRIBE || type === FRAME_UNSUBSCRIBE || type === FRAME_WHISPER) {
      this.channelFrame(frame);
    }
    else if (type === FRAME_PING) queueMicrotask(() => this.handlers.onFrame([FRAME_PONG]));
    // PONG: the server never asks over HTTP; nothing to send.
    return true;
  }

  /** Close for good (no reconnect). */
  close() {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.sourceTimer);
    window.removeEventListener("online", this.onWake);
    document.removeEventListener("visibilitychange", this.onWake);
    this.source?.close();
    this.source = null;
    if (this.open) this.down(CLOSED);
    for (const controller of this.controllers) controller.abort();
  }

  wake() {
    if (this.stopped) return;
    if (!this.open && !this.connecting) {
      this.attempts = 0;
      this.connect();
    }
  }

  // -- requests -------------------------------------------------------------------------

  /** POST `frames`; resolve to the server's frames, or throw an HttpError / network error. */
  async post(frames) {
    const controller = new AbortController();
    this.controllers.add(controller);
    const timer = setTimeout(() => controller.abort(), this.timeoutMs);
    const stream = this.streamId;
    try {
      const headers = { [CSRF_HEADER]: "1", "Content-Type": MSGPACK, Accept: MSGPACK };
      if (stream !== null) headers[STREAM_HEADER] = stream;
      const response = await fetch(this.updateUrl, {
        method: "POST",
        headers,
        body: encode(frames),
        credentials: "same-origin",
        cache: "no-store",
        signal: controller.signal,
      });
      const body = new Uint8Array(await response.arrayBuffer());
      if (!response.ok) {
        const text = new TextDecoder().decode(body);
        const code = response.headers.get("X-Livepy-Error") ?? text.split(":")[0];
        throw new HttpError(response.status, code, text);
      }
      const answer = decode(body);
      if (!Array.isArray(answer)) {
        throw new HttpError(response.status, ERR_BAD_FRAME, "the answer is not an array");
      }
      const pushed = response.headers.get(PUSHED_HEADER);
      if (stream !== null && pushed !== null) answer.pushMark = { stream, number: Number(pushed) };
      return answer;
    } finally {
      clearTimeout(timer);
      this.controllers.delete(controller);
    }
  }

  /** A request failed: `opened` tells whether the transport was up. */
  failed(err, opened) {
    if (err instanceof HttpError && err.status === 403) {
      console.error(`${err.message}; not reconnecting`);
      if (opened) this.down(WS_CLOSE_ORIGIN_REFUSED);
      else this.handlers.onDown({ code: WS_CLOSE_ORIGIN_REFUSED, opened: false });
      this.close();
      return;
    }
    if (opened) this.down(ABNORMAL);
    else this.handlers.onDown({ code: ABNORMAL, opened: false });
    const ceiling = Math.min(this.maxDelayMs, BACKOFF_BASE_MS * 2 ** this.attempts);
    this.attempts++;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), Math.random() * ceiling);
  }

  down(code) {
    this.open = false;
    this.generation++;
    this.byRef.clear();
    this.held.clear();
    this.source?.close();
    this.source = null;
    this.streamId = null;
    this.streamRefs.clear();
    clearTimeout(this.sourceTimer);
    this.handlers.onDown({ code, opened: true });
  }

  /** Is an answer to a request made in `generation` still wanted? */
  current(generation) {
    return !this.stopped && this.open && generation === this.generation;
  }

  // -- JOIN ---------------------------------------------------------------------------------

  join(frame) {
    const entries = Array.isArray(frame[1]) ? frame[1] : [];
    const joining = new Map();
    for (const [cid, wire] of entries) {
      const [name, , issuedAt, state, mac] = wire;
      joining.set(String(cid), { name, cid: String(cid), issuedAt, state, mac });
    }
    const generation = this.generation;
    const stream = this.streamId;
    this.post([frame])
      .then((frames) => {
        if (!this.current(generation)) return;
        // The stream's token came while this JOIN was out: announce the components to it.
        if (this.streamId !== null && this.streamId !== stream) queueMicrotask(() => this.announce());
        for (const out of frames) {
          if (!Array.isArray(out)) continue;
          if (out[0] === FRAME_JOINED) {
            const [, cid, , html, patch] = out;
            const snapshot = joining.get(String(cid));
            if (!snapshot) continue;
            const ref = this.adopt(String(cid), patchSnapshot(snapshot, patch ?? null));
            if (frames.pushMark) this.held.get(String(cid)).pushMark = frames.pushMark;
            this.handlers.onFrame([FRAME_JOINED, cid, ref, html, patch ?? null]);
          } else {
            this.handlers.onFrame(out);
          }
        }
      })
      .catch((err) => {
        if (!this.current(generation)) return;
        if (err instanceof HttpError && (err.status === 400 || err.status === 413)) {
          // Refused as a whole: these components stay unjoined, the transport stays up.
          const code = err.status === 413 ? ERR_FRAME_TOO_LARGE : err.code || ERR_BAD_FRAME;
          for (const cid of joining.keys()) {
            this.handlers.onFrame(errorFrame(code, err.detail, cid, null));
          }
        } else {
          this.failed(err, true);
        }
      });
  }

  /** Hold `snapshot` for `cid` under a fresh ref; return the ref. */
  adopt(cid, snapshot) {
    const previous = this.held.get(cid);
    if (previous) this.byRef.delete(previous.ref);
    const ref = this.nextRef++;
    // Calls queued under the old ref belong to the old join: the runtime drops them on rejoin.
    this.held.set(cid, { snapshot, ref, queue: [], busy: false, lastSeq: 0 });
    this.byRef.set(ref, cid);
    return ref;
  }

  // -- CALL and RESYNC ------------------------------------------------------------------------

  enqueue(ref, item) {
    const cid = this.byRef.get(ref);
    const entry = cid === undefined ? null : this.held.get(cid);
    if (!entry) {
      const message = `no component has ref ${ref} on this connection`;
      const error = errorFrame(ERR_NOT_JOINED, message, null, item.seq ?? null);
      queueMicrotask(() => this.handlers.onFrame(error));
      return;
    }
    entry.queue.push(item);
    this.pump(cid);
  }

  /** Send what is queued for `cid`, unless a request for it is already out. */
  pump(cid) {
    const entry = this.held.get(cid);
    if (!entry || entry.busy || entry.queue.length === 0) return;
    const generation = this.generation;
    entry.busy = true;
    const join = [FRAME_JOIN, [[cid, wireOf(entry.snapshot)]]];
    let request;
    if (entry.queue[0].resync) {
      entry.queue.shift();
      request = this.post([join]).then((frames) => this.resynced(cid, entry, frames, generation));
    } else {
      const items = [];
      const more = () => entry.queue.length > 0 && !entry.queue[0].resync;
      while (more() && items.length < MAX_FRAMES_PER_REQUEST) items.push(entry.queue.shift());
      const calls = items.map((item, i) => {
        const [, , , updates, list] = item.frame;
        return [FRAME_CALL, 1, i + 1, updates, list];
      });
      request = this.post([join, ...calls])
        .then((frames) => this.answered(cid, entry, items, frames, generation))
        .catch((err) => {
          if (!(err instanceof HttpError) || err.status === 403 || err.status >= 500) throw err;
          // 413 / 400: the request itself was refused; the calls in it fail, nothing else.
          if (!this.current(generation)) return;
          const code = err.status === 413 ? ERR_FRAME_TOO_LARGE : (err.code || ERR_BAD_FRAME);
          for (const item of items) {
            this.handlers.onFrame(errorFrame(code, err.detail, cid, item.seq));
          }
        });
    }
    request
      .then(() => {
        entry.busy = false;
        const held = entry.heldPush;
        entry.heldPush = null;
        if (held && this.current(generation) && this.held.get(cid) === entry) this.pushed(held);
        if (this.current(generation) && this.held.get(cid) === entry) this.pump(cid);
      })
      .catch((err) => {
        entry.busy = false;
        if (generation === this.generation) this.failed(err, true);
      });
  }

  /** Hand the runtime the answers to `items` (calls of component `cid`). */
  answered(cid, entry, items, frames, generation) {
    if (!this.current(generation) || this.held.get(cid) !== entry) return;
    if (frames.pushMark) entry.pushMark = frames.pushMark;
    const before = entry.snapshot;
    let html = null;
    let pending = null; // a JOINED patch the runtime has not seen yet
    for (const out of frames) {
      if (!Array.isArray(out)) continue;
      const [type] = out;
      if (type === FRAME_JOINED) {
        html = out[3];
        const patch = out[4] ?? null;
        if (patch !== null) {
          entry.snapshot = patchSnapshot(entry.snapshot, patch);
          pending = before;
        }
      } else if (type === FRAME_REPLY) {
        const [, , serverSeq, render, patch, effects] = out;
        const item = items[serverSeq - 1];
        if (!item) continue;
        let full = null;
        if (typeof render === "string") full = html = render;
        else if (Array.isArray(render)) full = html = applyDiff(html ?? "", render);
        let runtimePatch = patch ?? null;
        entry.snapshot = patchSnapshot(entry.snapshot, runtimePatch);
        entry.lastSeq = item.seq;
        if (pending !== null) {
          // The runtime missed the JOINED patch: give it the whole state at once.
          const s = entry.snapshot;
          runtimePatch = [s.issuedAt, [[[], s.state]], s.mac];
          pending = null;
        }
        const reply = [FRAME_REPLY, entry.ref, item.seq, full, runtimePatch];
        if (effects !== undefined && effects !== null) reply.push(effects);
        this.handlers.onFrame(reply);
      } else if (type === FRAME_ERROR) {
        const [, code, message, errCid, serverSeq, detail] = out;
        const item = serverSeq === null || serverSeq === undefined ? null : items[serverSeq - 1];
        const seq = item ? item.seq : null;
        this.handlers.onFrame([FRAME_ERROR, code, message, errCid ?? cid, seq, detail ?? null]);
      }
    }
  }

  /** A RESYNC's answer: the fresh JOINED html becomes a full-html REPLY for the last seq. */
  resynced(cid, entry, frames, generation) {
    if (!this.current(generation) || this.held.get(cid) !== entry) return;
    if (frames.pushMark) entry.pushMark = frames.pushMark;
    for (const out of frames) {
      if (!Array.isArray(out)) continue;
      if (out[0] === FRAME_JOINED) {
        const before = entry.snapshot;
        entry.snapshot = patchSnapshot(entry.snapshot, out[4] ?? null);
        const s = entry.snapshot;
        const patch = s === before ? null : [s.issuedAt, [[[], s.state]], s.mac];
        this.handlers.onFrame([FRAME_REPLY, entry.ref, entry.lastSeq, out[3], patch]);
      } else if (out[0] === FRAME_ERROR) {
        const [, code, message, errCid, , detail] = out;
        this.handlers.onFrame([FRAME_ERROR, code, message, errCid ?? cid, null, detail ?? null]);
      }
    }
  }

  // -- pushes over the events stream -------------------------------------------------------
  /** A frame from the stream's live session. */
  fromStream(frame) {
    const [type] = frame;
    if (type === FRAME_JOINED) {
      this.streamRefs.set(frame[2], String(frame[1]));
    } else if (type === FRAME_REPLY) {
      this.pushed(frame);
    } else if (type === FRAME_EVENT) {
      this.handlers.onFrame(frame);
    } else if (type === FRAME_ERROR && frame[3] !== null && frame[3] !== undefined) {
      const [, code, message, cid, , detail] = frame;
      this.handlers.onFrame([FRAME_ERROR, code, message, cid, null, detail ?? null]);
    }
  }

  /** A pushed REPLY (full html, whole state) becomes a REPLY for the runtime's ref. */
  pushed(frame) {
    const [, streamRef, number, render, patch, effects] = frame;
    const cid = this.streamRefs.get(streamRef);
    const entry = cid === undefined ? null : this.held.get(cid);
    if (!entry) return;
    const mark = entry.pushMark;
    if (mark && mark.stream === this.streamId && number <= mark.number) {
      // Computed from a state before the last answer: the server ran its change again on
      // top of that answer, and that push follows.
      return;
    }
    if (entry.busy) {
      // A request of this component is out: its answer would overwrite this push. Apply it
      // after the answer, unless that answer supersedes it (see above).
      entry.heldPush = frame;
      return;
    }
    try {
      entry.snapshot = patchSnapshot(entry.snapshot, patch ?? null);
    } catch (err) {
      console.error("livepy: dropped a pushed update that does not apply", err);
      return;
    }
    const html = typeof render === "string" ? render : null;
    const reply = [FRAME_REPLY, entry.ref, entry.lastSeq, html, patch ?? null];
    if (effects !== undefined && effects !== null) reply.push(effects);
    this.handlers.onFrame(reply);
  }

  /** A new stream: join every held component to it and subscribe the page's channels again. */
  announce() {
    const entries = [...this.held.entries()].map(([cid, e]) => [cid, wireOf(e.snapshot)]);
    const frames = entries.length ? [[FRAME_JOIN, entries]] : [];
    for (const name of this.channelNames) frames.push([FRAME_SUBSCRIBE, name]);
    if (frames.length) this.postChannelFrames(frames);
  }

  /** SUBSCRIBE, UNSUBSCRIBE or WHISPER from channels.js. */
  channelFrame(frame) {
    const [type, name] = frame;
    if (type === FRAME_SUBSCRIBE) this.channelNames.add(name);
    if (type === FRAME_UNSUBSCRIBE) this.channelNames.delete(name);
    if (this.streamId === null) return; // subscriptions go with the stream's announce()
    this.postChannelFrames([frame]);
  }

  /** Post frames for the stream's session; only channel events of the answer matter. */
  postChannelFrames(frames) {
    const generation = this.generation;
    this.post(frames)
      .then((answer) => {
        if (!this.current(generation)) return;
        for (const out of answer) {
          if (Array.isArray(out) && out[0] === FRAME_EVENT) this.handlers.onFrame(out);
        }
      })
      .catch((err) => console.warn("livepy: a channel request failed", err));
  }

  // -- Server-Sent Events -------------------------------------------------------------------

  listen() {
    if (this.stopped || this.source || typeof EventSource === "undefined") return;
    const source = new EventSource(this.eventsUrl);
    this.source = source;
    source.onopen = () => {
      this.sourceAttempts = 0;
    };
    source.addEventListener("stream", (event) => {
      if (source !== this.source) return;
      this.streamId = String(event.data);
      this.streamRefs.clear();
      this.announce();
    });
    source.onmessage = (event) => {
      if (source !== this.source) return;
      this.lastEvent = Date.now();
      let frame;
      try {
        frame = decode(fromBase64(event.data));
      } catch (err) {
        console.error("livepy: dropped an undecodable event", err);
        return;
      }
      if (!Array.isArray(frame) || frame[0] === FRAME_PING || frame[0] === FRAME_PONG) return;
      this.fromStream(frame);
    };
    source.onerror = () => {
      if (source !== this.source || source.readyState !== EventSource.CLOSED) return;
      // Refused (429 busy, 503 draining...): EventSource gives up, so retry with backoff here.
      this.source = null;
      const ceiling = Math.min(this.maxDelayMs, 1000 * 2 ** this.sourceAttempts);
      this.sourceAttempts++;
      clearTimeout(this.sourceTimer);
      const delay = 500 + Math.random() * ceiling;
      this.sourceTimer = setTimeout(() => this.open && this.listen(), delay);
    };
  }
}

function wireOf(snapshot) {
  return [snapshot.name, snapshot.cid, snapshot.issuedAt, snapshot.state, snapshot.mac];
}
