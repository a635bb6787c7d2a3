// livepy browser runtime, entry point: finds the page's components, installs the directives,
// opens the connection, joins, and routes server frames to components. Exposes window.livepy.
//
// The connection is a WebSocket (socket.js) unless the page asks for HTTP (`config.transport ===
// "http"`) or `config.ws_attempts` WebSocket attempts in a row failed before any WebSocket ever
// opened on this page (a proxy that blocks WebSockets); then http.js is loaded and used instead.

import {
  ATTR_ID,
  DEFAULT_MAX_FRAME_BYTES,
  FRAME_ERROR,
  FRAME_EVENT,
  FRAME_PAGE,
  FRAME_JOIN,
  FRAME_JOINED,
  FRAME_PING,
  FRAME_PONG,
  FRAME_REPLY,
} from "./constants.js";
import { bindChannels, channel, receiveChannelEvent, resubscribeChannels } from "./channels.js";
import { encode } from "./codec.js";
import { Component, LivepyError } from "./component.js";
import { defineHook } from "./directives/hook.js";
import { installDirectives } from "./directives/index.js";
import { dispatch, dispatchTo, on } from "./events.js";
import { emitHook, onHook } from "./hooks.js";
import { installNavigation, navigate, receivePage } from "./navigate.js";
import { reportError } from "./overlay.js";
import { components } from "./registry.js";
import { snapshotWire } from "./snapshot.js";
import { Socket } from "./socket.js";
import { install as installUrl } from "./url.js";

export const DEFAULT_WS_ATTEMPTS = 3;

const config = { ws: "/livepy/ws", debug: false };
let connection = null; // the current transport: a Socket or an HttpTransport
let open = false;
let everOpened = false;
let wsOpened = false; // a WebSocket opened at least once: WebSockets work here
let wsFailures = 0; // WebSocket attempts in a row that never opened
const byRef = new Map(); // ref -> Component, for the current connection

function readConfig() {
  const el = document.getElementById("livepy-config");
  if (!el) return;
  try {
    Object.assign(config, JSON.parse(el.textContent));
  } catch (err) {
    console.error("livepy: #livepy-config is not valid JSON", err);
  }
}

function announce(name, detail = null) {
  window.dispatchEvent(new CustomEvent(name, { detail }));
}

const transport = {
  send: (frame) => (open && connection?.send(frame)) ?? false,
  isOpen: () => open && (connection?.isOpen() ?? false),
};
bindChannels(transport);

/** Join `list` (Components), in as many JOIN frames as the frame size limit needs. */
function join(list) {
  // A component whose joinHeld is set (lp-lazy="visible" not yet in view) joins later.
  list = list.filter((component) => component.snapshot !== null && !component.joinHeld);
  if (!transport.isOpen() || list.length === 0) return;
  const limit = (config.max_frame_bytes ?? DEFAULT_MAX_FRAME_BYTES) - 16;
  let entries = [];
  let size = 0;
  for (const component of list) {
    if (component.ref !== null) byRef.delete(component.ref);
    component.rejoin();
    const entry = [component.id, snapshotWire(component.snapshot)];
    const cost = encode(entry).length;
    if (entries.length > 0 && size + cost > limit) {
      transport.send([FRAME_JOIN, entries]);
      entries = [];
      size = 0;
    }
    entries.push(entry);
    size += cost;
  }
  transport.send([FRAME_JOIN, entries]);
}

/**
 * Sync the registry with the page: components added by a morph are created (and joined when
 * the connection is open), roots that moved are rebound, and removed ones are dropped.
 */
export function discover() {
  const found = [];
  const seen = new Set();
  for (const el of document.querySelectorAll(`[${ATTR_ID}]`)) {
    const id = el.getAttribute(ATTR_ID);
    if (seen.has(id)) continue;
    seen.add(id);
    const known = components.get(id);
    if (known) {
      known.el = el;
      continue;
    }
    const component = new Component(el, transport, { maxCalls: config.max_calls_per_frame });
    components.set(id, component);
    found.push(component);
    emitHook("init", component);
  }
  for (const [id, component] of components) {
    if (!seen.has(id)) {
      components.delete(id);
      if (component.ref !== null) byRef.delete(component.ref);
      component.destroy();
      emitHook("removed", component);
    }
  }
  join(found);
  return found;
}

function onFrame(frame) {
  const [type] = frame;
  if (type === FRAME_REPLY) {
    const [, ref, seq, render, patch, effects] = frame;
    const component = byRef.get(ref);
    if (!component) return;
    if (component.onReply(seq, render ?? null, patch ?? null, effects ?? null)) discover();
  } else if (type === FRAME_JOINED) {
    const [, cid, ref, html, patch] = frame;
    const component = components.get(String(cid));
    if (!component || !Number.isInteger(ref)) return;
    byRef.set(ref, component);
    if (component.onJoined(ref, html, patch ?? null)) discover();
  } else if (type === FRAME_ERROR) {
    const [, code, message, cid = null, seq = null, detail = null] = frame;
    const component = cid === null ? null : (components.get(String(cid)) ?? null);
    reportError({ code, message, detail, component }, Boolean(config.debug));
    const error = new LivepyError(code, message, detail);
    if (component) component.onError(error, seq);
    // An error the server could not tie to a component most likely answers a frame we just sent.
    else if (cid === null) components.forEach((c) => c.abortInflight(error));
  } else if (type === FRAME_EVENT) {
    receiveChannelEvent(frame); // a channel the page's JS listens on (channels.js)
  } else if (type === FRAME_PAGE) {
    receivePage(frame); // the page an lp-navigate asked for (navigate.js)
  } else if (type === FRAME_PING) {
    transport.send([FRAME_PONG]); // transports that pass heartbeats through
  } else if (type !== FRAME_PONG) {
    console.warn("livepy: ignored a frame of unknown type", type);
  }
}

function onOpen() {
  open = true;
  if (connection instanceof Socket) {
    wsOpened = true;
    wsFailures = 0;
  }
  byRef.clear();
  emitHook("status", true);
  announce(everOpened ? "lp:reconnected" : "lp:connected");
  everOpened = true;
  // Every component joins again with its latest snapshot; refs and sequence numbers restart.
  join([...components.values()]);
  resubscribeChannels();
}

/** `info`: {code} of the close, when the transport knows it. */
function onDown(info = {}) {
  const wasOpen = open;
  open = false;
  byRef.clear();
  emitHook("status", false);
  if (wasOpen) announce("lp:disconnected", { code: info?.code ?? null });
  if (!wasOpen && connection instanceof Socket && !wsOpened) {
    wsFailures++;
    if (wsFailures >= (config.ws_attempts ?? DEFAULT_WS_ATTEMPTS)) fallBackToHttp();
  }
}

const handlers = { onOpen, onFrame, onDown };

let fallingBack = false;

async function fallBackToHttp() {
  if (fallingBack) return;
  fallingBack = true;
  connection?.close(); // no more WebSocket attempts while http.js loads
  let next;
  try {
    const { HttpTransport } = await import("./http.js");
    next = new HttpTransport(config, handlers);
  } catch (err) {
    console.error("livepy: the HTTP transport cannot load; staying on WebSockets", err);
    next = new Socket(config, handlers);
  }
  if (connection && !(next instanceof Socket)) {
    console.warn("livepy: WebSockets do not connect here; switching to HTTP");
  }
  useConnection(next);
}

function useConnection(next) {
  const previous = connection;
  connection = next;
  previous?.close();
  connection.connect();
}

// A directive that held a component back (joinHeld) lets it join now.
onHook("join", (component) => join([component]));

let started = false;

export async function start() {
  if (started) return;
  started = true;
  readConfig();
  installDirectives();
  installUrl();
  installNavigation({
    transport,
    discover,
    overSocket: () => connection instanceof Socket,
    // A page fetched over an open socket: a fresh connection, with the cookies the fetch stored.
    reconnect: () => useConnection(new Socket(config, handlers)),
  });
  discover();
  if (config.transport === "http") await fallBackToHttp();
  else useConnection(new Socket(config, handlers));
}

window.livepy = {
  components,
  config,
  /** Component `id`: {id, el, state, call(method, ...args), set(field, value), refresh()}. */
  find: (id) => components.get(String(id)) ?? null,
  /** `livepy.channel("presence-room.1")`: listen, listenForWhisper, whisper (channels.js). */
  channel,
  get connected() {
    return transport.isOpen();
  },
  /** The current transport object (a Socket or an HttpTransport), for debugging and tests. */
  get _connection() {
    return connection;
  },
  /** The transport in use: "websocket" or "http" (null before start). */
  get transport() {
    if (!connection) return null;
    return connection instanceof Socket ? "websocket" : "http";
  },
  discover,
  /** `livepy.hook(name, {mounted, updated, destroyed})`: a client hook for `lp-hook="name"`. */
  hook: defineHook,
  /** `livepy.dispatch("saved", {id: 1})`: to every component listening (@on), see events.js. */
  dispatch,
  /** `livepy.dispatchTo("cart", "saved", {id: 1})`: to the components registered as "cart". */
  dispatchTo,
  /** `livepy.on("saved", (params) => ...)`: events dispatched to every component; returns off. */
  on,
  /** `livepy.navigate("/path")`: swap in another page of this site without a reload. */
  navigate,
};

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
