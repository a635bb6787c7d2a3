// The page's WebSocket transport: binary msgpack frames, heartbeats, and reconnection.
//
// Interface (shared with HttpTransport in http.js, so livepy.js can use either):
//   new Socket(config, {onOpen, onFrame, onDown}); connect(); send(frame) -> bool; isOpen(); close()
// onOpen() runs when a connection is up, onFrame(frame) for each server frame (PING/PONG are
// handled here), onDown({code, opened}) each time a connection or an attempt ends.
//
// Reconnection uses exponential backoff with full jitter, so a restarted server is not hit by
// every tab at once. Close codes change the plan: 4403 (origin refused) stops for good, 4429 (too
// many connections) waits at least 5 s, 1012 (the server is draining) comes back within a second,
// since another process will take the connection.
//
// Heartbeats: a socket that received nothing for 2.5 heartbeat intervals is dead (a sleeping
// laptop, a silently dropped NAT entry) and is replaced; the client PINGs when it sent nothing
// for an interval, so an idle healthy connection always has PONGs coming back. When the tab
// becomes visible again, returns from the back/forward cache, or the browser comes back online,
// a waiting reconnect happens at once and an open socket is probed with a PING that must be
// answered promptly.

import { decode, encode } from "./codec.js";
import {
  DEFAULT_HEARTBEAT_INTERVAL,
  FRAME_PING,
  FRAME_PONG,
  WS_CLOSE_HEARTBEAT_TIMEOUT,
  WS_CLOSE_ORIGIN_REFUSED,
  WS_CLOSE_SERVICE_RESTART,
  WS_CLOSE_TOO_MANY_CONNECTIONS,
} from "./constants.js";

export const BACKOFF_BASE_MS = 250;
export const DEFAULT_RECONNECT_MAX_DELAY = 10; // seconds, config `reconnect_max_delay`
export const BUSY_DELAY_MS = 5000; // least wait after 4429 (too many connections)
export const RESTART_JITTER_MS = 1000; // spread of reconnects after 1012 (service restart)
export const DEAD_AFTER_INTERVALS = 2.5;
// A connection that lived this long was healthy: the next drop starts the backoff afresh.
const STABLE_MS = 5000;
// How long a wake-up probe waits for an answer before the socket is declared dead.
const PROBE_MS = 5000;

/** Absolute ws(s):// URL for a config path such as "/livepy/ws". */
export function socketUrl(path) {
  if (/^wss?:\/\//.test(path)) return path;
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}${path}`;
}

export class Socket {
  constructor(config, handlers) {
    this.url = socketUrl(config.ws ?? "/livepy/ws");
    this.handlers = handlers;
    this.intervalMs = 1000 * (config.heartbeat_interval ?? DEFAULT_HEARTBEAT_INTERVAL);
    this.deadMs = DEAD_AFTER_INTERVALS * this.intervalMs;
    this.maxDelayMs = 1000 * (config.reconnect_max_delay ?? DEFAULT_RECONNECT_MAX_DELAY);
    this.ws = null;
    this.open = false;
    this.attempts = 0;
    this.startedAt = 0;
    this.openedAt = 0;
    this.lastSent = 0;
    this.lastReceived = 0;
    this.holdUntil = 0; // no reconnect before this time (after 4429), even on wake-up
    this.timer = null; // pending reconnect
    this.probeTimer = null;
    this.ticker = null;
    this.stopped = false;
    this.onWake = () => {
      if (document.visibilityState !== "hidden") this.wake();
    };
    window.addEventListener("online", this.onWake);
    window.addEventListener("pageshow", this.onWake); // back from the back/forward cache
    document.addEventListener("visibilitychange", this.onWake);
  }

  isOpen() {
    return this.open;
  }

  connect() {
    if (this.stopped || this.ws) return;
    clearTimeout(this.timer);
    this.timer = null;
    if (this.ticker === null) {
      this.ticker = setInterval(() => this.tick(), Math.max(20, this.intervalMs / 4));
    }
    const ws = new WebSocket(this.url);
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    this.startedAt = Date.now();
    ws.onopen = () => ws === this.ws && this.opened();
    ws.onmessage = (event) => ws === this.ws && this.received(event.data);
    ws.onclose = (event) => ws === this.ws && this.closed(event.code);
  }

  send(frame) {
    if (!this.open) return false;
    this.ws.send(encode(frame));
    this.lastSent = Date.now();
    return true;
  }

  /** Close for good (no reconnect). */
  close() {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.probeTimer);
    clearInterval(this.ticker);
    window.removeEventListener("online", this.onWake);
    window.removeEventListener("pageshow", this.onWake);
    document.removeEventListener("visibilitychange", this.onWake);
    const ws = this.ws;
    if (ws) {
      this.ws = null;
      ws.close();
      if (this.open) this.down(1000);
    }
  }

  /** The tab woke up or the network came back: check the connection now. */
  wake() {
    if (this.stopped || Date.now() < this.holdUntil) return;
    if (!this.ws) {
      this.attempts = 0;
      this.connect();
    } else if (this.open) {
      this.probe();
    }
  }

  /** PING now; any frame received within the probe window proves the socket alive. */
  probe() {
    clearTimeout(this.probeTimer);
    const ws = this.ws;
    this.send([FRAME_PING]);
    this.probeTimer = setTimeout(() => {
      this.probeTimer = null;
      if (ws === this.ws) this.abandon();
    }, Math.min(PROBE_MS, this.intervalMs));
  }

  tick() {
    if (!this.ws) return;
    const now = Date.now();
    if (!this.open) {
      if (now - this.startedAt > this.deadMs) this.abandon(); // a connect that hangs
    } else if (now - this.lastReceived > this.deadMs) {
      this.abandon();
    } else if (now - this.lastSent >= this.intervalMs) {
      this.send([FRAME_PING]);
    }
  }

  /** Give up on the current socket without waiting for its close handshake. */
  abandon() {
    const ws = this.ws;
    this.ws = null; // its late events are ignored from now on
    try {
      ws.close(WS_CLOSE_HEARTBEAT_TIMEOUT, "heartbeat timeout");
    } catch {
      // closing an unopened socket can throw in some browsers; it is dropped either way
    }
    this.closed(WS_CLOSE_HEARTBEAT_TIMEOUT);
  }

  opened() {
    this.open = true;
    this.openedAt = this.lastReceived = this.lastSent = Date.now();
    this.handlers.onOpen();
  }

  received(data) {
    this.lastReceived = Date.now();
    clearTimeout(this.probeTimer);
    this.probeTimer = null;
    let frame;
    try {
      frame = decode(new Uint8Array(data));
    } catch (err) {
      console.error("livepy: dropped an undecodable frame", err);
      return;
    }
    if (!Array.isArray(frame)) {
      console.error("livepy: dropped a frame that is not an array", frame);
    } else if (frame[0] === FRAME_PING) {
      this.send([FRAME_PONG]);
    } else if (frame[0] !== FRAME_PONG) {
      this.handlers.onFrame(frame);
    }
  }

  down(code) {
    const opened = this.open;
    this.open = false;
    clearTimeout(this.probeTimer);
    this.probeTimer = null;
    this.handlers.onDown({ code, opened });
    return opened;
  }

  closed(code) {
    this.ws = null;
    const opened = this.down(code);
    if (opened && Date.now() - this.openedAt >= STABLE_MS) this.attempts = 0;
    if (code === WS_CLOSE_ORIGIN_REFUSED) {
      console.error("livepy: the server refused this page's origin; not reconnecting");
      this.close();
      return;
    }
    if (this.stopped) return;
    const delay = this.delayAfter(code);
    this.timer = setTimeout(() => this.connect(), delay);
  }

  /** How long to wait before the next attempt, after a close with `code`. */
  delayAfter(code) {
    const ceiling = Math.min(this.maxDelayMs, BACKOFF_BASE_MS * 2 ** this.attempts);
    this.attempts++;
    if (code === WS_CLOSE_SERVICE_RESTART) return Math.random() * RESTART_JITTER_MS;
    if (code === WS_CLOSE_TOO_MANY_CONNECTIONS) {
      const delay = BUSY_DELAY_MS + Math.random() * Math.max(BUSY_DELAY_MS, ceiling);
      this.holdUntil = Date.now() + delay;
      return delay;
    }
    return Math.random() * ceiling;
  }
}
