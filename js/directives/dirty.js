// lp-dirty: change an element while lp-model input differs from the server's state (same looks
// as lp-loading, see toggle.js). Which fields count:
//   on an element that has lp-model itself      that field
//   with lp-target="title,body"                 those fields
//   otherwise                                   any lp-model field of the component
// "Differs" compares what the user typed (sent or not, but not yet confirmed by a reply) with
// the state of the latest snapshot, as text, so typing a value back to what it was is clean.

import { directiveOf, scanDirectives } from "../attrs.js";
import { onHook } from "../hooks.js";
import { componentOf } from "../registry.js";
import { lookup } from "../snapshot.js";
import { toggle } from "../toggle.js";

function textOf(value) {
  if (value === null || value === undefined) return "";
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

function isDirty(component, field) {
  const unsent = component.unsentValue(field);
  return unsent.found && textOf(unsent.value) !== textOf(lookup(component.state, field));
}

function fieldsOf(el, component) {
  const own = directiveOf(el, "lp-model");
  if (own) return [own.value.trim()];
  const list = el.getAttribute("lp-target");
  if (list) return list.split(",").map((name) => name.trim()).filter(Boolean);
  return scanDirectives(component.el, "lp-model").map(([, dir]) => dir.value.trim());
}

export function apply(component) {
  for (const [el, dir] of scanDirectives(component.el, "lp-dirty")) {
    const dirty = fieldsOf(el, component).some((field) => isDirty(component, field));
    toggle(el, dir, dirty, component.renders);
  }
}

function onInput(event) {
  const component = componentOf(event.target);
  if (component) apply(component);
}

export function install() {
  // Installed after lp-model (see index.js), so the value typed is already recorded.
  document.addEventListener("input", onInput);
  document.addEventListener("change", onInput);
  onHook("init", apply);
  onHook("updated", apply);
  onHook("busy", apply);
}
