// Reading directive attributes such as `lp-model.debounce.300ms`.
//
// CSS selectors cannot match attribute names containing dots, so directives are found by walking
// `el.attributes`. The part after the directive name is split into modifiers.

import { ATTR_ID } from "./constants.js";

/** All attributes of `el` named `name` or `name.<modifiers>`, as {name, value, modifiers}. */
export function directivesOf(el, name) {
  const found = [];
  if (!el || el.nodeType !== 1) return found;
  const prefix = name + ".";
  for (const attr of el.attributes) {
    if (attr.name === name) found.push({ name: attr.name, value: attr.value, modifiers: [] });
    else if (attr.name.startsWith(prefix)) {
      const modifiers = attr.name.slice(prefix.length).split(".").filter(Boolean);
      found.push({ name: attr.name, value: attr.value, modifiers });
    }
  }
  return found;
}

/** The first `name` directive on `el`, or null. */
export function directiveOf(el, name) {
  return directivesOf(el, name)[0] ?? null;
}

/** Duration modifier such as `300ms` or `2s` found in `modifiers`, else `fallback` (in ms). */
export function durationOf(modifiers, fallback) {
  for (const mod of modifiers) {
    const match = /^(\d+)(ms|s)?$/.exec(mod);
    if (match) return Number(match[1]) * (match[2] === "s" ? 1000 : 1);
  }
  return fallback;
}

/** The component root that owns `el` (the closest element carrying lp-id). */
export function rootOf(el) {
  const start = el && el.nodeType === 1 ? el : el?.parentElement;
  return start ? start.closest(`[${ATTR_ID}]`) : null;
}

/** Every element of the component rooted at `root`, root first, skipping nested components. */
export function* ownElements(root) {
  yield root;
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_ELEMENT, {
    acceptNode: (el) =>
      el.hasAttribute(ATTR_ID) ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT,
  });
  for (let el = walker.nextNode(); el; el = walker.nextNode()) yield el;
}

/** [el, directive] pairs for every `name` directive in the component rooted at `root`. */
export function scanDirectives(root, name) {
  const out = [];
  for (const el of ownElements(root)) {
    for (const dir of directivesOf(el, name)) out.push([el, dir]);
  }
  return out;
}
