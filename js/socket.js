// The page's single WebSocket: binary msgpack frames, PING answers, and reconnection with
// exponential backoff and full jitter so a restarted server is not hit by every tab at once.

import { decode, encode } from "./codec.js";
import { FRAME_PING, FRAME_PONG, WS_CLOSE_ORIGIN_REFUSED } from "./constants.js";

export const BACKOFF_BASE_MS = 250;
export const BACKOFF_CAP_MS = 10000;
// A connection that lived this long was healthy: the next drop starts the backoff afresh.
const STABLE_MS = 5000;

function announce(name) {
  window.dispatchEvent(new CustomEvent(name));
}

export class Socket {
  /** `handlers`: onOpen(), onFrame(frame), onDown() */
  constructor(url, handlers) {
    this.url = url;
    this.handlers = handlers;
    this.ws = null;
    this.open = false;
    this.everOpened = false;
    this.attempts = 0;
    this.openedAt = 0;
    this.timer = null;
    this.stopped = false;
    window.addEventListener("online", () => this.retryNow());
  }

  isOpen() {
    return this.open;
  }

  connect() {
    if (this.stopped || this.ws) return;
    const ws = new WebSocket(this.url);
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    ws.onopen = () => ws === this.ws && this.opened();
    ws.onmessage = (event) => ws === this.ws && this.received(event.data);
    ws.onclose = (event) => ws === this.ws && this.closed(event);
  }

  send(frame) {
    if (!this.open) return false;
    this.ws.send(encode(frame));
    return true;
  }

  /** Close for good (no reconnect). */
  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    this.ws?.close();
  }

  retryNow() {
    if (this.ws || this.stopped) return;
    clearTimeout(this.timer);
    this.connect();
  }

  opened() {
    const again = this.everOpened;
    this.open = true;
    this.everOpened = true;
    this.openedAt = Date.now();
    this.handlers.onOpen();
    announce(again ? "lp:reconnected" : "lp:connected");
  }

  received(data) {
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
    } else {
      this.handlers.onFrame(frame);
    }
  }

  closed(event) {
    const wasOpen = this.open;
    this.ws = null;
    this.open = false;
    if (wasOpen && Date.now() - this.openedAt >= STABLE_MS) this.attempts = 0;
    if (wasOpen) announce("lp:disconnected");
    this.handlers.onDown();
    if (event.code === WS_CLOSE_ORIGIN_REFUSED) {
      console.error("livepy: the server refused this page's origin; not reconnecting");
      this.stopped = true;
      return;
    }
    if (this.stopped) return;
    const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** this.attempts);
    this.attempts++;
    this.timer = setTimeout(() => this.connect(), Math.random() * ceiling);
  }
}
