// Events between components, client half of livepy/features/events.
//
// A server `self.dispatch("saved", id=1)` arrives as a `dispatch` effect: {name, params} plus
// `to` (a component name), `up` (the dispatcher's ancestors) or `self`, and `depth` for events
// dispatched by listeners. The runtime routes it: every component on the page whose root named
// the event in `lp-listen` (read once, when the component starts), narrowed by the scope, gets
// the reserved call ["$event", [name, params, depth]], which the server runs on its @on(name)
// methods only. Routing here, not on the server, makes events work over any transport.
//
// `livepy.dispatch(name, params)` dispatches from the page's JS, `livepy.on(name, cb)` listens
// (for events dispatched to every component), `dispatch_browser` effects become DOM events.

import { ATTR_ID, ATTR_LISTEN } from "./constants.js";
import { registerEffect } from "./effects.js";
import { onHook } from "./hooks.js";
import { components } from "./registry.js";

export const EVENT_CALL = "$event";

const listening = new WeakMap(); // Component -> Set of the event names its @on methods take
const scriptListeners = new Map(); // event name -> Set of callbacks from livepy.on()

onHook("init", (component) => {
  const names = component.el?.getAttribute(ATTR_LISTEN) ?? "";
  listening.set(component, new Set(names.split(/\s+/).filter(Boolean)));
});

function listensTo(component, name) {
  return listening.get(component)?.has(name) ?? false;
}

/** The components that `from` is nested in, nearest first (by the page's DOM). */
function ancestorsOf(from) {
  const found = [];
  let el = from?.el?.parentElement?.closest(`[${ATTR_ID}]`) ?? null;
  while (el) {
    const component = components.get(el.getAttribute(ATTR_ID));
    if (component) found.push(component);
    el = el.parentElement?.closest(`[${ATTR_ID}]`) ?? null;
  }
  return found;
}

/** Who hears an event: `scope` is {to}, {up}, {self} or {} (everyone), `from` the dispatcher. */
function audience(name, scope, from) {
  let candidates;
  if (scope.self) candidates = from ? [from] : [];
  else if (scope.up) candidates = ancestorsOf(from);
  else candidates = [...components.values()];
  if (typeof scope.to === "string") {
    candidates = candidates.filter((c) => c.snapshot?.name === scope.to);
  }
  return candidates.filter((c) => listensTo(c, name));
}

function deliver(name, params, scope, from, depth) {
  const heard = audience(name, scope, from);
  for (const component of heard) {
    component.call(EVENT_CALL, name, params, depth).catch((err) => {
      console.error(`livepy: component ${component.id} failed on event ${name}:`, err.message);
    });
  }
  if (!scope.to && !scope.up && !scope.self) {
    for (const callback of scriptListeners.get(name) ?? []) {
      try {
        callback(params);
      } catch (err) {
        console.error(`livepy: a livepy.on(${JSON.stringify(name)}) callback failed`, err);
      }
    }
  }
  return heard.length;
}

function checkName(name) {
  if (typeof name !== "string" || name === "" || /\s/.test(name)) {
    throw new TypeError(`livepy: an event name is a non-empty string without spaces`);
  }
}

/** Dispatch `name` with `params` to every listening component (and livepy.on callbacks). */
export function dispatch(name, params = {}) {
  checkName(name);
  return deliver(name, params ?? {}, {}, null, 1);
}

/** Dispatch `name` to the components registered as `component` only. */
export function dispatchTo(component, name, params = {}) {
  checkName(name);
  return deliver(name, params ?? {}, { to: String(component) }, null, 1);
}

/** Run `callback(params)` for every event `name` dispatched to all components; returns off(). */
export function on(name, callback) {
  checkName(name);
  if (typeof callback !== "function") throw new TypeError("livepy.on(name, callback)");
  if (!scriptListeners.has(name)) scriptListeners.set(name, new Set());
  scriptListeners.get(name).add(callback);
  return () => scriptListeners.get(name)?.delete(callback);
}

registerEffect("dispatch", (component, values) => {
  for (const value of values) {
    if (!value || typeof value.name !== "string") continue;
    const scope = { to: value.to, up: value.up === true, self: value.self === true };
    deliver(value.name, value.params ?? {}, scope, component, value.depth ?? 1);
  }
});

registerEffect("browser_event", (component, values) => {
  for (const value of values) {
    if (!value || typeof value.name !== "string") continue;
    const event = new CustomEvent(value.name, {
      detail: value.detail ?? {},
      bubbles: true,
      composed: true,
    });
    // From the component's root, so both its ancestors and `window` can listen.
    const target = component.el?.isConnected ? component.el : window;
    target.dispatchEvent(event);
  }
});
