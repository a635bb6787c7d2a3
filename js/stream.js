// lp-stream="name": a container whose children belong to a server stream, not to the morph.
//
// The server renders streamed items once and sends them in a "stream" effect:
// {name, ops, limit} with ops ["reset"], ["insert", "end" | "start", [[key, html], ...]] and
// ["delete", [key, ...]], applied in order. An inserted item whose key (lp-key) is already in the
// container replaces it in place; a batch inserted at the start keeps its order. `limit` then
// trims the container from the side opposite to the last insert. The morph skips the children
// of lp-stream containers (see morph.js), so other re-renders never remove them.

import { ATTR_KEY } from "./constants.js";
import { ownElements } from "./attrs.js";
import { registerEffect } from "./effects.js";

export const ATTR_STREAM = "lp-stream";

/** The component's own container for stream `name` (not one inside a nested component). */
export function containerOf(component, name) {
  for (const el of ownElements(component.el)) {
    if (el.getAttribute(ATTR_STREAM) === name) return el;
  }
  return null;
}

function parseItem(html) {
  const template = document.createElement("template");
  template.innerHTML = String(html).trim();
  return template.content.firstElementChild;
}

function childByKey(container, key) {
  for (const child of container.children) {
    if (child.getAttribute(ATTR_KEY) === key) return child;
  }
  return null;
}

function insert(container, at, batch) {
  const anchor = at === "start" ? container.firstChild : null;
  for (const [key, html] of batch) {
    const item = parseItem(html);
    if (!item) continue;
    if (!item.hasAttribute(ATTR_KEY)) item.setAttribute(ATTR_KEY, String(key));
    const existing = childByKey(container, String(key));
    if (existing) existing.replaceWith(item);
    else container.insertBefore(item, anchor);
  }
}

/** Apply one stream effect value to `container`. */
export function applyStream(container, { ops = [], limit = null } = {}) {
  let lastAt = "end";
  for (const op of ops) {
    if (!Array.isArray(op)) continue;
    if (op[0] === "reset") container.replaceChildren();
    else if (op[0] === "delete") {
      for (const key of op[1] ?? []) childByKey(container, String(key))?.remove();
    } else if (op[0] === "insert") {
      lastAt = op[1] === "start" ? "start" : "end";
      insert(container, lastAt, op[2] ?? []);
    }
  }
  if (Number.isInteger(limit) && limit > 0) {
    while (container.children.length > limit) {
      const children = container.children;
      (lastAt === "start" ? children[children.length - 1] : children[0]).remove();
    }
  }
}

export function install() {
  registerEffect("stream", (component, values) => {
    for (const value of values) {
      const container = containerOf(component, value?.name);
      if (!container) {
        console.warn(`livepy: component ${component.id} has no lp-stream="${value?.name}"`);
        continue;
      }
      applyStream(container, value);
    }
  });
}
