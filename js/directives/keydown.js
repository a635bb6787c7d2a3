// lp-keydown and lp-keyup with key modifiers: `lp-keydown.enter="add"`, `lp-keyup.ctrl.s="save"`.
//
// Modifiers name keys (enter, escape, space, tab, up, down, left, right, backspace, delete, or
// any event.key in lower case, dashes optional: page-down) and held keys (shift, ctrl, alt,
// meta/cmd). `.exact` refuses extra held keys. With no key named, any key fires.

import { runExpression } from "../actions.js";
import { delegate } from "../delegate.js";

const KEYS = {
  enter: "enter",
  escape: "escape",
  esc: "escape",
  space: " ",
  tab: "tab",
  up: "arrowup",
  down: "arrowdown",
  left: "arrowleft",
  right: "arrowright",
  backspace: "backspace",
  delete: "delete",
};
const HELD = { shift: "shiftKey", ctrl: "ctrlKey", alt: "altKey", meta: "metaKey", cmd: "metaKey" };
const BEHAVIOUR = new Set(["prevent", "stop", "self", "exact"]);

export function keyMatches(event, modifiers) {
  const held = new Set();
  const keys = [];
  for (const mod of modifiers) {
    if (BEHAVIOUR.has(mod)) continue;
    if (HELD[mod]) held.add(HELD[mod]);
    else keys.push(mod);
  }
  for (const prop of held) if (!event[prop]) return false;
  if (modifiers.includes("exact")) {
    for (const prop of Object.values(HELD)) if (event[prop] && !held.has(prop)) return false;
  }
  if (keys.length === 0) return true;
  // Autofill fires keydown events without a key.
  const pressed = (event.key ?? "").toLowerCase();
  return keys.some((k) => (KEYS[k] ?? k) === pressed || k.replaceAll("-", "") === pressed);
}

export function install() {
  for (const type of ["keydown", "keyup"]) {
    delegate(type, `lp-${type}`, (event, el, dir, component) => {
      if (!keyMatches(event, dir.modifiers)) return false;
      runExpression(component, dir.value);
      return true;
    });
  }
}
