// URL binding, the browser half of livepy/features/url: fields that mirror the query string.
//
// A component with URL-bound fields carries `lp-url` on its first render:
//   {field: [query key, history (0/1), keep (0/1), default value, is list (0/1)]}
// After every reply the address bar is brought in step with the state: replaceState, or
// pushState when a changed field asked for history. A field at its default is left out unless
// `keep`. On back/forward between entries of the page on screen (js/navigate.js tells them from
// entries of other pages, which it swaps in, and emits the "popstate" hook for them), the URL's
// values go back to the server as model updates, in one CALL per component, and the re-render
// they cause never adds a history entry.
// Query keys that belong to no bound field are left as they are.

import { scanDirectives } from "./attrs.js";
import { ATTR_URL } from "./constants.js";
import { writeValue } from "./directives/model.js";
import { onHook } from "./hooks.js";
import { pageState } from "./navigate.js";
import { components } from "./registry.js";
import { lookup } from "./snapshot.js";

const bindings = new WeakMap(); // component -> [{field, key, history, keep, fallback, list}]
const synced = new WeakSet(); // components whose URL was written at least once
const restoring = new WeakSet(); // components answering a popstate: replace, never push

function readBindings(component) {
  const source = component.el.getAttribute(ATTR_URL);
  if (!source) return;
  let config;
  try {
    config = JSON.parse(source);
  } catch (err) {
    console.error(`livepy: component ${component.id} has a malformed ${ATTR_URL}`, err);
    return;
  }
  const list = [];
  for (const [field, spec] of Object.entries(config)) {
    if (!Array.isArray(spec) || typeof spec[0] !== "string") continue;
    const [key, history, keep, fallback, isList] = spec;
    list.push({
      field,
      key,
      history: Boolean(history),
      keep: Boolean(keep),
      fallback,
      list: Boolean(isList),
    });
  }
  if (list.length > 0) bindings.set(component, list);
}

function text(value) {
  if (typeof value === "boolean") return value ? "1" : "0";
  return String(value);
}

/** The query values that stand for `value`: [] for none. */
function serialize(value) {
  if (value === null || value === undefined) return [];
  if (Array.isArray(value)) return value.filter((v) => v !== null && v !== undefined).map(text);
  return [text(value)];
}

function same(a, b) {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** What the URL should hold for `binding`, given the component's state. */
function wanted(component, binding) {
  const values = serialize(lookup(component.state, binding.field));
  if (!binding.keep && same(values, serialize(binding.fallback))) return [];
  return values;
}

function writeUrl(component) {
  const list = bindings.get(component);
  if (!list) return;
  const url = new URL(window.location.href);
  let changed = false;
  let push = false;
  for (const binding of list) {
    const values = wanted(component, binding);
    if (same(values, url.searchParams.getAll(binding.key))) continue;
    url.searchParams.delete(binding.key);
    for (const value of values) url.searchParams.append(binding.key, value);
    changed = true;
    if (binding.history) push = true;
  }
  const first = !synced.has(component);
  synced.add(component);
  if (!changed) return;
  const next = url.pathname + url.search + url.hash;
  // The first write only tidies the URL the page was loaded with (a bad or default value).
  if (push && !first && !restoring.has(component)) window.history.pushState(pageState(), "", next);
  else window.history.replaceState(window.history.state, "", next);
}

/** The value a field should take from `params`: its default when the key is absent. */
function fromUrl(binding, params) {
  const values = params.getAll(binding.key);
  if (values.length === 0) return binding.fallback;
  return binding.list ? values : values[0];
}

// Back/forward replaces what the user typed, even in a focused field, which lp-model would
// otherwise protect as input in progress.
function showInFields(component, field, value) {
  for (const [el, dir] of scanDirectives(component.el, "lp-model")) {
    if (dir.value.trim() === field) writeValue(el, value);
  }
}

function restore() {
  const params = new URLSearchParams(window.location.search);
  for (const component of components.values()) {
    const list = bindings.get(component);
    if (!list) continue;
    let last = null;
    for (const binding of list) {
      const value = fromUrl(binding, params);
      const current = serialize(lookup(component.state, binding.field));
      if (same(serialize(value), current)) continue;
      component.defer(binding.field, value);
      showInFields(component, binding.field, value);
      last = binding.field;
    }
    if (last === null) continue;
    restoring.add(component);
    component
      .commit(last)
      .catch(() => {}) // failures are reported by the error path
      .finally(() => restoring.delete(component));
  }
}

export function install() {
  onHook("init", readBindings);
  onHook("updated", writeUrl);
  onHook("popstate", restore); // js/navigate.js: a back/forward within the page on screen
}
