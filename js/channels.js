// Channels the page's JavaScript listens on itself, and whispers (client events):
//
//   const room = livepy.channel("presence-room.1");
//   room.listenForWhisper("typing", (data, meta) => show(meta.user_id));
//   room.whisper("typing", { at: Date.now() });
//   room.listen("MessagePosted", (data) => ...);   // any broadcast on the channel
//   room.error((err) => console.warn(err.code, err.message));
//
// The first listener or whisper sends SUBSCRIBE [9, channel]; the server authorizes the
// channel for this connection (as for a component's @on) and answers on the channel itself
// with "livepy:subscribed" or "livepy:error" {code, message}. Then every event on the channel
// arrives as EVENT [12, channel, event, data] and runs the callbacks here, without a server
// round trip. A whisper is WHISPER [11, channel, event, data]: the server relays it as
// "client-<event>" with {data, user_id} to the channel's other listeners (never back to this
// page). Refusals (public channel, not subscribed, over the rate limit) come back as
// "livepy:error" on the channel: they reach .error() callbacks, and the console when there are
// none. Whispers are ephemeral: while the connection is down they are dropped (whisper() then
// returns false). Subscriptions are sent again after every reconnect.

import { FRAME_SUBSCRIBE, FRAME_UNSUBSCRIBE, FRAME_WHISPER } from "./constants.js";

export const WHISPER_PREFIX = "client-";
const STATUS_SUBSCRIBED = "livepy:subscribed";
const STATUS_ERROR = "livepy:error";

const channels = new Map(); // name -> Channel
let transport = null; // {send(frame) -> bool, isOpen()}

/** Give this module the runtime's transport (livepy.js does at start-up). */
export function bindChannels(t) {
  transport = t;
}

class Channel {
  constructor(name) {
    this.name = name;
    this.callbacks = new Map(); // event -> Set of callbacks
    this.errorCallbacks = new Set();
    this.subscribedCallbacks = new Set();
    this.wanted = false; // the page asked for this channel: (re)subscribe on every open
    this.sent = false; // SUBSCRIBE sent on the current connection
    this.subscribed = false; // the server confirmed it on the current connection
  }

  subscribe() {
    this.wanted = true;
    if (!this.sent && transport?.isOpen()) {
      this.sent = transport.send([FRAME_SUBSCRIBE, this.name]) !== false;
    }
    return this;
  }

  /** Run `callback(data)` for every `event` broadcast on the channel. */
  listen(event, callback) {
    if (!this.callbacks.has(event)) this.callbacks.set(event, new Set());
    this.callbacks.get(event).add(callback);
    return this.subscribe();
  }

  /** Run `callback(data, {user_id})` for every whisper `event` of another page or client. */
  listenForWhisper(event, callback) {
    const wrapped = (payload) =>
      callback(payload?.data ?? null, { user_id: payload?.user_id ?? null });
    wrapped.original = callback;
    return this.listen(WHISPER_PREFIX + event, wrapped);
  }

  /** Remove a callback given to listen() or listenForWhisper() (all of the event's without one). */
  stopListening(event, callback) {
    for (const name of [event, WHISPER_PREFIX + event]) {
      const set = this.callbacks.get(name);
      if (!set) continue;
      for (const cb of [...set]) {
        if (!callback || cb === callback || cb.original === callback) set.delete(cb);
      }
    }
    return this;
  }

  /** Send a client event to the channel's other members. Returns false while offline. */
  whisper(event, data = null) {
    this.subscribe();
    if (!transport?.isOpen()) return false;
    return transport.send([FRAME_WHISPER, this.name, String(event), data]) !== false;
  }

  error(callback) {
    this.errorCallbacks.add(callback);
    return this;
  }

  /** Run `callback(channel)` each time the server confirms the subscription. */
  whenSubscribed(callback) {
    this.subscribedCallbacks.add(callback);
    return this;
  }

  /** Stop listening on this channel altogether. */
  leave() {
    this.wanted = false;
    if (this.sent && transport?.isOpen()) transport.send([FRAME_UNSUBSCRIBE, this.name]);
    this.sent = this.subscribed = false;
    channels.delete(this.name);
  }

  receive(event, data) {
    if (event === STATUS_SUBSCRIBED) {
      this.subscribed = true;
      for (const cb of this.subscribedCallbacks) safely(cb, this);
      return;
    }
    if (event === STATUS_ERROR) {
      if (this.errorCallbacks.size === 0) {
        console.warn(`livepy: channel ${this.name}: ${data?.code}: ${data?.message}`);
      }
      for (const cb of this.errorCallbacks) safely(cb, data ?? {});
      return;
    }
    for (const cb of this.callbacks.get(event) ?? []) safely(cb, data);
  }
}

function safely(callback, ...args) {
  try {
    callback(...args);
  } catch (err) {
    console.error("livepy: a channel callback failed", err);
  }
}

/** `livepy.channel(name)`: the page's handle on one channel (created on first use). */
export function channel(name) {
  name = String(name);
  let found = channels.get(name);
  if (!found) {
    found = new Channel(name);
    channels.set(name, found);
  }
  return found;
}

/** A new connection is open: subscribe again to every channel the page wants. */
export function resubscribeChannels() {
  for (const ch of channels.values()) {
    ch.sent = ch.subscribed = false;
    if (ch.wanted) ch.subscribe();
  }
}

/** An EVENT frame [12, channel, event, data] from the server. */
export function receiveChannelEvent(frame) {
  const [, name, event, data = null] = frame;
  channels.get(String(name))?.receive(String(event), data);
}
