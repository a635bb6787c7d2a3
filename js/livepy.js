// livepy browser runtime, entry point: finds the page's components, installs the directives,
// opens the socket, joins, and routes server frames to components. Exposes window.livepy.

import {
  ATTR_ID,
  DEFAULT_MAX_FRAME_BYTES,
  FRAME_ERROR,
  FRAME_JOIN,
  FRAME_PONG,
  FRAME_REPLY,
} from "./constants.js";
import { Component, LivepyError } from "./component.js";
import { installDirectives } from "./directives/index.js";
import { emitHook } from "./hooks.js";
import { reportError } from "./overlay.js";
import { components } from "./registry.js";
import { Socket } from "./socket.js";

const config = { ws: "/livepy/ws", debug: false };
let socket = null;

function readConfig() {
  const el = document.getElementById("livepy-config");
  if (!el) return;
  try {
    Object.assign(config, JSON.parse(el.textContent));
  } catch (err) {
    console.error("livepy: #livepy-config is not valid JSON", err);
  }
}

function socketUrl(path) {
  if (/^wss?:\/\//.test(path)) return path;
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}${path}`;
}

const transport = {
  send: (frame) => socket?.send(frame) ?? false,
  isOpen: () => socket?.isOpen() ?? false,
};

/** Join `list` (Components), in as many JOIN frames as the frame size limit needs. */
function join(list) {
  if (!transport.isOpen() || list.length === 0) return;
  const limit = (config.max_frame_bytes ?? DEFAULT_MAX_FRAME_BYTES) - 64;
  let entries = [];
  let size = 0;
  for (const component of list) {
    component.rejoin();
    // bytes of the snapshot and id plus a few bytes of msgpack headers
    const cost = component.snapshot.length + component.id.length * 3 + 16;
    if (entries.length > 0 && size + cost > limit) {
      transport.send([FRAME_JOIN, entries]);
      entries = [];
      size = 0;
    }
    entries.push([component.id, component.snapshot]);
    size += cost;
  }
  transport.send([FRAME_JOIN, entries]);
}

/**
 * Sync the registry with the page: components added by a morph are created (and joined when
 * the socket is open), roots that moved are rebound, and removed ones are dropped.
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
      component.destroy();
    }
  }
  join(found);
  return found;
}

function onFrame(frame) {
  const [type] = frame;
  if (type === FRAME_REPLY) {
    const [, cid, seq, html, snapshot, effects] = frame;
    const component = components.get(String(cid));
    if (!component) return;
    component.onReply(seq, html ?? null, snapshot, effects ?? null);
    if (html !== null && html !== undefined) discover();
  } else if (type === FRAME_ERROR) {
    const [, code, message, cid = null, seq = null, detail = null] = frame;
    const component = cid === null ? null : (components.get(String(cid)) ?? null);
    reportError({ code, message, detail, component }, Boolean(config.debug));
    const error = new LivepyError(code, message, detail);
    if (component) component.onError(error, seq);
    // An error the server could not tie to a component most likely answers a frame we just sent.
    else if (cid === null) components.forEach((c) => c.abortInflight(error));
  } else if (type !== FRAME_PONG) {
    console.warn("livepy: ignored a frame of unknown type", type);
  }
}

function onOpen() {
  emitHook("status", true);
  join([...components.values()]);
}

export function start() {
  if (socket) return;
  readConfig();
  installDirectives();
  const onDown = () => emitHook("status", false);
  socket = new Socket(socketUrl(config.ws), { onOpen, onFrame, onDown });
  discover();
  socket.connect();
}

window.livepy = {
  components,
  config,
  /** Component `id`: {id, el, state, call(method, ...args), set(field, value), refresh()}. */
  find: (id) => components.get(String(id)) ?? null,
  get connected() {
    return transport.isOpen();
  },
  discover,
};

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
