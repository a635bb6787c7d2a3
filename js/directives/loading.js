// lp-loading: change elements while their component has work in flight (see toggle.js for the
// looks). `lp-target="save,title"` limits it to those actions or model fields; `.delay` (or
// `.delay.500ms`) waits 200 ms before showing, so fast replies cause no flicker.

import { durationOf, scanDirectives } from "../attrs.js";
import { onHook } from "../hooks.js";
import { toggle } from "../toggle.js";

const DELAY_MS = 200;
const busySince = new WeakMap(); // component -> time its current busy spell began

function targeted(el, busyTargets) {
  const list = el.getAttribute("lp-target");
  if (!list) return true;
  // "increment(5)" targets the increment action
  return list.split(",").some((t) => busyTargets.has(t.split("(")[0].trim()));
}

export function apply(component) {
  const busy = component.busy;
  if (!busy) busySince.delete(component);
  else if (!busySince.has(component)) {
    busySince.set(component, Date.now());
    const found = scanDirectives(component.el, "lp-loading");
    const delays = found.filter(([, dir]) => dir.modifiers.includes("delay"));
    for (const wait of new Set(delays.map(([, dir]) => durationOf(dir.modifiers, DELAY_MS)))) {
      setTimeout(() => apply(component), wait);
    }
  }
  const elapsed = busy ? Date.now() - busySince.get(component) : 0;
  const targets = busy ? component.busyTargets() : new Set();
  for (const [el, dir] of scanDirectives(component.el, "lp-loading")) {
    const delay = dir.modifiers.includes("delay") ? durationOf(dir.modifiers, DELAY_MS) : 0;
    const active = busy && elapsed >= delay && targeted(el, targets);
    toggle(el, dir, active, component.renders);
  }
}

export function install() {
  onHook("init", apply);
  onHook("busy", apply);
  onHook("updated", apply);
}
