// DOM morph: patch a live component root in place so it matches new server HTML.
//
// Nodes are reused wherever possible so that focus, caret, typed values, scroll positions,
// listeners and third-party widgets survive a re-render. Children are paired by key
// (lp-key, then a nested component's lp-id, then id) and otherwise by position and tag.

import { ATTR_ID, ATTR_KEY } from "./constants.js";
import { directiveOf } from "./attrs.js";

/** Parse `html` into its single root element (in an inert template document). */
export function parseRoot(html) {
  const template = document.createElement("template");
  template.innerHTML = String(html).trim();
  const roots = template.content.children;
  if (roots.length !== 1) {
    const count = roots.length;
    throw new Error(`livepy: component html must have exactly one root element, got ${count}`);
  }
  return roots[0];
}

/**
 * Morph `fromEl` into the element described by `html`. Returns the live root, which is a new
 * element only when the root tag itself changed. The root keeps its lp-id.
 */
export function morph(fromEl, html) {
  const toEl = parseRoot(html);
  const view = saveView(fromEl);
  const id = fromEl.getAttribute(ATTR_ID);
  let root = fromEl;
  if (sameKind(fromEl, toEl)) {
    morphElement(fromEl, toEl, view.active, true);
  } else {
    root = document.importNode(toEl, true);
    fromEl.replaceWith(root);
  }
  if (id !== null) root.setAttribute(ATTR_ID, id);
  restoreView(view);
  return root;
}

function sameKind(a, b) {
  return a.nodeType === b.nodeType && a.nodeName === b.nodeName;
}

function keyOf(node) {
  if (node.nodeType !== 1) return null;
  if (node.hasAttribute(ATTR_KEY)) return "k:" + node.getAttribute(ATTR_KEY);
  if (node.hasAttribute(ATTR_ID)) return "c:" + node.getAttribute(ATTR_ID);
  if (node.id) return "i:" + node.id;
  return null;
}

function morphNode(from, to, active) {
  if (from.nodeType === 1) morphElement(from, to, active, false);
  else if (from.nodeValue !== to.nodeValue) from.nodeValue = to.nodeValue;
}

function morphElement(from, to, active, isRoot) {
  // A nested component root belongs to that component: its own REPLYs update it.
  if (!isRoot && from.hasAttribute(ATTR_ID)) return;
  const ignore = directiveOf(from, "lp-ignore");
  if (ignore && !ignore.modifiers.includes("self")) return;
  const focused = from === active;
  // Live form state follows the markup only where the server changed the markup for it, so
  // what the user typed or ticked survives renders that did not touch that field.
  const formChanged = !focused && formMarkupOf(from) !== formMarkupOf(to);
  if (!ignore) syncAttributes(from, to, focused);
  // A focused textarea's text children are its default value: leave what the user types alone.
  // An lp-stream container's children belong to its stream (js/stream.js), not to the render.
  const keepChildren =
    (focused && from.nodeName === "TEXTAREA") || from.hasAttribute("lp-stream");
  if (!keepChildren) morphChildren(from, to, active);
  if (formChanged) syncFormState(from, to);
}

// The markup that sets a form field's initial state (null for other elements).
function formMarkupOf(el) {
  if (el.nodeName === "INPUT") {
    return `${el.getAttribute("type")}|${el.getAttribute("value")}|${el.hasAttribute("checked")}`;
  }
  if (el.nodeName === "TEXTAREA") return el.textContent;
  if (el.nodeName === "SELECT") {
    const options = [...el.querySelectorAll("option")];
    return options.map((o) => `${o.value}${o.hasAttribute("selected") ? "*" : ""}`).join("\n");
  }
  return null;
}

function setAttribute(el, attr) {
  try {
    if (attr.namespaceURI) el.setAttributeNS(attr.namespaceURI, attr.name, attr.value);
    else el.setAttribute(attr.name, attr.value);
  } catch {
    // Names the parser accepts but setAttribute refuses (such as "@click") go in as a node copy.
    el.setAttributeNode(document.importNode(attr, false));
  }
}

function syncAttributes(from, to, focused) {
  for (const attr of to.attributes) {
    if (focused && attr.name === "value") continue;
    if (from.getAttribute(attr.name) !== attr.value) setAttribute(from, attr);
  }
  for (const attr of [...from.attributes]) {
    if (focused && attr.name === "value") continue;
    if (!to.hasAttribute(attr.name)) {
      if (attr.namespaceURI) from.removeAttributeNS(attr.namespaceURI, attr.localName);
      else from.removeAttribute(attr.name);
    }
  }
}

// Live form state (.value, .checked, selection) is not an attribute: set it from the new markup.
// Only called when that markup changed (see formMarkupOf).
function syncFormState(from, to) {
  if (from.nodeName === "INPUT") {
    if (from.type === "checkbox" || from.type === "radio") {
      const checked = to.hasAttribute("checked");
      if (from.checked !== checked) from.checked = checked;
    } else if (from.type !== "file") {
      const value = to.getAttribute("value") ?? "";
      if (from.value !== value) from.value = value;
    }
  } else if (from.nodeName === "TEXTAREA") {
    if (from.value !== to.textContent) from.value = to.textContent;
  } else if (from.nodeName === "SELECT") {
    // Deselect first so a single select ends on the marked option (or the browser's default).
    for (const option of from.options) if (!option.defaultSelected) option.selected = false;
    for (const option of from.options) if (option.defaultSelected) option.selected = true;
  }
}

function morphChildren(from, to, active) {
  const wanted = new Set();
  for (let c = to.firstChild; c; c = c.nextSibling) {
    const key = keyOf(c);
    if (key !== null) wanted.add(key);
  }
  const keyed = new Map();
  for (let c = from.firstChild; c; c = c.nextSibling) {
    const key = keyOf(c);
    if (key !== null && !keyed.has(key)) keyed.set(key, c);
  }
  const unkeyedLike = (node, toNode) => node && keyOf(node) === null && sameKind(node, toNode);

  let cur = from.firstChild;
  for (let toChild = to.firstChild; toChild; toChild = toChild.nextSibling) {
    // Keyed nodes that are gone must not block positional matching of what follows.
    while (cur && keyOf(cur) !== null && !wanted.has(keyOf(cur))) {
      const gone = cur;
      cur = cur.nextSibling;
      gone.remove();
    }
    const key = keyOf(toChild);
    let match = null;
    if (key !== null) {
      const candidate = keyed.get(key);
      if (candidate && sameKind(candidate, toChild)) {
        match = candidate;
        keyed.delete(key);
      }
    } else if (unkeyedLike(cur, toChild)) {
      match = cur;
    } else if (
      cur &&
      keyOf(cur) === null &&
      !cur.contains(active) &&
      unkeyedLike(cur.nextSibling, toChild) &&
      !(toChild.nextSibling && sameKind(cur, toChild.nextSibling))
    ) {
      // One node was deleted here: drop it rather than rebuild everything after it.
      const gone = cur;
      cur = cur.nextSibling;
      gone.remove();
      match = cur;
    }
    if (match === null) {
      from.insertBefore(document.importNode(toChild, true), cur);
      continue;
    }
    if (match === cur) cur = cur.nextSibling;
    else from.insertBefore(match, cur);
    morphNode(match, toChild, active);
  }
  while (cur) {
    const gone = cur;
    cur = cur.nextSibling;
    gone.remove();
  }
}

function saveView(root) {
  const view = { active: null, scrolls: [], x: window.scrollX, y: window.scrollY };
  const active = document.activeElement;
  if (active && active !== document.body && root.contains(active)) {
    view.active = active;
    view.id = active.id;
    try {
      view.selection = [active.selectionStart, active.selectionEnd, active.selectionDirection];
    } catch {
      view.selection = null; // inputs such as type=number have no selection API
    }
  }
  for (const el of [root, ...root.querySelectorAll("*")]) {
    if (el.scrollTop || el.scrollLeft) view.scrolls.push([el, el.scrollTop, el.scrollLeft]);
  }
  return view;
}

function restoreView(view) {
  for (const [el, top, left] of view.scrolls) {
    if (!el.isConnected) continue;
    if (el.scrollTop !== top) el.scrollTop = top;
    if (el.scrollLeft !== left) el.scrollLeft = left;
  }
  if (window.scrollX !== view.x || window.scrollY !== view.y) window.scrollTo(view.x, view.y);
  let el = view.active;
  if (!el) return;
  if (!el.isConnected) el = view.id ? document.getElementById(view.id) : null;
  if (!el) return;
  if (document.activeElement !== el) el.focus({ preventScroll: true });
  const sel = view.selection;
  if (el === view.active && sel && sel[0] !== null) {
    try {
      if (el.selectionStart !== sel[0] || el.selectionEnd !== sel[1]) {
        el.setSelectionRange(sel[0], sel[1], sel[2] ?? "none");
      }
    } catch {
      // the element changed type to one without a selection
    }
  }
}
