// lp-transition: fade an element in when a re-render adds it and out when one removes it.
// `lp-transition` takes 150 ms, `lp-transition.300ms` sets the duration.
//
// While it runs the element has the class `lp-entering` or `lp-leaving`, for pages that want
// more than a fade. Elements present when the page loads do not fade in.
//
// The morph removes an element at once, so a leaving element is a copy put back where it was:
// inert (no lp-id, so it is never a component; aria-hidden; no pointer events) and keyed with a
// unique lp-key, so that a morph during the fade drops it instead of reusing it.

import { ATTR_ID, ATTR_KEY, ATTR_SNAPSHOT } from "../constants.js";
import { directiveOf, durationOf } from "../attrs.js";

export const DEFAULT_DURATION_MS = 150;
let leaving = 0;

function durationFor(el) {
  const dir = directiveOf(el, "lp-transition");
  return dir ? durationOf(dir.modifiers, DEFAULT_DURATION_MS) : null;
}

function fadeIn(el, ms) {
  el.classList.add("lp-entering");
  el.style.opacity = "0";
  el.getBoundingClientRect(); // commit the start state, so the change below animates
  el.style.transition = `opacity ${ms}ms`;
  el.style.opacity = "";
  setTimeout(() => {
    el.classList.remove("lp-entering");
    el.style.transition = "";
  }, ms);
}

function fadeOut(el, ms, parent, before) {
  const ghost = el.cloneNode(true);
  for (const node of [ghost, ...ghost.querySelectorAll(`[${ATTR_ID}]`)]) {
    node.removeAttribute(ATTR_ID);
    node.removeAttribute(ATTR_SNAPSHOT);
  }
  ghost.removeAttribute("id");
  ghost.setAttribute(ATTR_KEY, `lp-leaving-${++leaving}`);
  ghost.setAttribute("aria-hidden", "true");
  ghost.classList.add("lp-leaving");
  ghost.style.pointerEvents = "none";
  parent.insertBefore(ghost, before && before.parentNode === parent ? before : null);
  ghost.getBoundingClientRect();
  ghost.style.transition = `opacity ${ms}ms`;
  ghost.style.opacity = "0";
  setTimeout(() => ghost.remove(), ms);
}

function observe(records) {
  // A keyed element the morph moved shows up as removed and added again: it does not fade.
  const removed = new Set(records.flatMap((record) => [...record.removedNodes]));
  for (const record of records) {
    for (const node of record.addedNodes) {
      if (node.nodeType !== 1 || node.classList.contains("lp-leaving") || removed.has(node)) {
        continue;
      }
      const ms = durationFor(node);
      if (ms !== null) fadeIn(node, ms);
    }
    for (const node of record.removedNodes) {
      if (node.nodeType !== 1 || node.classList.contains("lp-leaving") || node.isConnected) {
        continue;
      }
      const ms = durationFor(node);
      // Only a removal from a parent still on the page fades: a whole page swap does not.
      if (ms !== null && record.target.isConnected) {
        fadeOut(node, ms, record.target, record.nextSibling);
      }
    }
  }
}

export function install() {
  new MutationObserver(observe).observe(document.body, { childList: true, subtree: true });
}
