// lp-offline: change elements while the socket is down (same looks as lp-loading, see toggle.js).
// Works anywhere on the page, not only inside components, so a layout can carry the banner.

import { directivesOf, scanDirectives } from "../attrs.js";
import { onHook } from "../hooks.js";
import { componentOf } from "../registry.js";
import { toggle } from "../toggle.js";

let offline = false;

function applyAll() {
  for (const el of document.querySelectorAll("*")) {
    for (const dir of directivesOf(el, "lp-offline")) {
      toggle(el, dir, offline, componentOf(el)?.renders ?? 0);
    }
  }
}

function applyTo(component) {
  for (const [el, dir] of scanDirectives(component.el, "lp-offline")) {
    toggle(el, dir, offline, component.renders);
  }
}

export function install() {
  onHook("status", (connected) => {
    offline = !connected;
    applyAll();
  });
  onHook("updated", applyTo);
  applyAll();
}
