// lp-hook="Chart": client-side JavaScript attached to an element, for what the server cannot do
// (drawing a chart, wrapping a widget). Define the hook once, before or after the runtime starts:
//
//   livepy.hook("Chart", {
//     mounted() { this.handleEvent("points", (data) => draw(this.el, data)); },
//     updated() { ... },      // the component re-rendered and the element is still there
//     destroyed() { ... },    // the element or its component left the page
//   });
//
// Inside the callbacks `this` has `el`, `component`, `pushEvent(method, ...args)` (calls an
// @action and returns its promise) and `handleEvent(name, callback)`, which receives what the
// server sends with `self.push_event(name, data)` to this component's hooks.
//
// Give a hooked element an `id` or `lp-key`, so that a re-render keeps the same element.

import { EFFECT_HOOK_EVENT } from "../constants.js";
import { scanDirectives } from "../attrs.js";
import { registerEffect } from "../effects.js";
import { onHook } from "../hooks.js";
import { components } from "../registry.js";

const CALLBACKS = ["mounted", "updated", "destroyed"];
const definitions = new Map(); // hook name -> definition object
const attached = new Map(); // component -> Map(element -> hook instance)

function callback(instance, name) {
  const fn = instance.definition[name];
  if (typeof fn !== "function") return;
  try {
    fn.call(instance);
  } catch (err) {
    console.error(`livepy: the ${name}() callback of hook "${instance.name}" failed`, err);
  }
}

function create(component, el, name) {
  const instance = Object.create(definitions.get(name));
  const handlers = new Map(); // event name -> callbacks
  Object.assign(instance, {
    el,
    component,
    name,
    definition: definitions.get(name),
    renders: component.renders,
    handlers,
    pushEvent: (method, ...args) => component.call(method, ...args),
    handleEvent: (event, fn) => {
      if (!handlers.has(event)) handlers.set(event, []);
      handlers.get(event).push(fn);
    },
  });
  return instance;
}

/** Attach, update and detach the hooks of `component`'s elements to match its DOM. */
function sync(component) {
  const current = attached.get(component) ?? new Map();
  const found = new Map();
  for (const [el, dir] of scanDirectives(component.el, "lp-hook")) {
    const name = dir.value.trim();
    if (definitions.has(name) && !found.has(el)) found.set(el, name);
  }
  for (const [el, instance] of current) {
    if (found.get(el) !== instance.name) {
      current.delete(el);
      callback(instance, "destroyed");
    }
  }
  for (const [el, name] of found) {
    const known = current.get(el);
    if (!known) {
      const instance = create(component, el, name);
      current.set(el, instance);
      callback(instance, "mounted");
    } else if (known.renders !== component.renders) {
      known.renders = component.renders;
      callback(known, "updated");
    }
  }
  if (current.size > 0) attached.set(component, current);
  else attached.delete(component);
}

function detachAll(component) {
  const current = attached.get(component);
  attached.delete(component);
  for (const instance of current?.values() ?? []) callback(instance, "destroyed");
}

/** Deliver `self.push_event(name, data)` values ([name, data] pairs) to the component's hooks. */
function deliver(component, values) {
  const instances = [...(attached.get(component)?.values() ?? [])];
  for (const value of values) {
    const [event, data] = Array.isArray(value) ? value : [null, null];
    let handled = false;
    for (const instance of instances) {
      for (const fn of instance.handlers.get(event) ?? []) {
        handled = true;
        try {
          fn.call(instance, data);
        } catch (err) {
          console.error(`livepy: hook "${instance.name}" failed on the event "${event}"`, err);
        }
      }
    }
    if (!handled) console.warn(`livepy: no lp-hook of component ${component.id} handles "${event}"`);
  }
}

/** `livepy.hook(name, {mounted, updated, destroyed})`: define a client hook. */
export function defineHook(name, definition) {
  if (typeof name !== "string" || name.trim() === "") {
    throw new TypeError("livepy.hook(name, definition) needs a non-empty name");
  }
  if (definition === null || typeof definition !== "object") {
    throw new TypeError(`livepy.hook("${name}", definition): the definition must be an object`);
  }
  for (const key of CALLBACKS) {
    if (key in definition && typeof definition[key] !== "function") {
      throw new TypeError(`livepy.hook("${name}"): ${key} must be a function`);
    }
  }
  if (definitions.has(name)) throw new Error(`livepy.hook("${name}") is already defined`);
  definitions.set(name, definition);
  // Elements already on the page (the runtime may have started first) get it now.
  for (const component of components.values()) sync(component);
}

export function install() {
  onHook("init", sync);
  onHook("updated", sync);
  onHook("removed", detachAll);
  registerEffect(EFFECT_HOOK_EVENT, deliver);
}
