// lp-init="load": call an action once, when the component first joins. A rejoin after a
// reconnect does not call it again. An empty value re-renders ($refresh).

import { scanDirectives } from "../attrs.js";
import { runExpression } from "../actions.js";
import { onHook } from "../hooks.js";

const initialized = new WeakSet(); // components whose lp-init already ran

function run(component) {
  if (!component.joined || initialized.has(component)) return;
  initialized.add(component);
  for (const [, dir] of scanDirectives(component.el, "lp-init")) {
    runExpression(component, dir.value.trim() || "$refresh");
  }
}

export function install() {
  // "updated" follows every JOINED, after the joined html was morphed in (a lazy component's
  // real content carries its lp-init).
  onHook("updated", run);
}
