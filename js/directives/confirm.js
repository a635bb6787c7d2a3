// lp-confirm="Delete this post?": ask with the browser's confirm() dialog before the lp-click (or,
// on a form, the lp-submit) on the same element runs. Cancel and nothing is sent.
//
// It listens in the capture phase on window, so it runs before the delegated lp-click and
// lp-submit listeners on document and can stop the event from reaching them.

import { directiveOf } from "../attrs.js";
import { componentOf } from "../registry.js";

export const DEFAULT_MESSAGE = "Are you sure?";

function guard(event, actionDirective) {
  const start = event.target instanceof Element ? event.target : event.target?.parentElement;
  for (let el = start; el; el = el.parentElement) {
    if (!directiveOf(el, actionDirective)) continue;
    const ask = directiveOf(el, "lp-confirm");
    if (!ask || !componentOf(el)) return; // the nearest action decides; it asks for nothing
    if (window.confirm(ask.value.trim() || DEFAULT_MESSAGE)) return;
    event.preventDefault();
    event.stopImmediatePropagation();
    return;
  }
}

export function install() {
  window.addEventListener("click", (event) => guard(event, "lp-click"), true);
  window.addEventListener("submit", (event) => guard(event, "lp-submit"), true);
}
