// lp-model="field": two-way binding between a form field and component state.
//
// Typing always records the value so it rides along with the component's next CALL; when the
// value is *sent* on its own depends on the modifiers:
//   (none) / .change / .lazy  on change
//   .live                     on input, debounced 150 ms (or .live.debounce.Nms)
//   .debounce.Nms             on input, debounced N ms
//   .throttle.Nms             on input, at most once per N ms
//   .blur                     when the field loses focus
// After every reply, each bound field shows the server's value, except a focused field: it only
// takes a value the server deliberately changed (say, cleared after a submit) and only when the
// user has typed nothing since, so that no keystroke is ever lost.

import { directiveOf, durationOf, scanDirectives } from "../attrs.js";
import { onHook } from "../hooks.js";
import { componentOf } from "../registry.js";
import { lookup } from "../snapshot.js";

const DEFAULT_WAIT_MS = 150;
const timers = new WeakMap(); // element -> pending debounce/throttle timeout
const lastSent = new WeakMap(); // element -> time of the last throttled send

function modeOf(dir) {
  const mods = dir.modifiers;
  const wait = durationOf(mods, DEFAULT_WAIT_MS);
  if (mods.includes("throttle")) return { on: "input", wait, throttle: true };
  if (mods.includes("live") || mods.includes("debounce")) return { on: "input", wait };
  if (mods.includes("blur")) return { on: "blur" };
  return { on: "change" };
}

function fieldOf(dir) {
  return dir.value.trim();
}

function boundTo(component, field, type) {
  return scanDirectives(component.el, "lp-model")
    .filter(([el, dir]) => el.type === type && fieldOf(dir) === field)
    .map(([el]) => el);
}

/** The value to send for `el`, as the server expects it for this kind of field. */
export function readValue(el, component, field) {
  if (el.type === "checkbox") {
    const group = boundTo(component, field, "checkbox");
    if (group.length > 1 || Array.isArray(lookup(component.state, field))) {
      return group.filter((box) => box.checked).map((box) => box.value);
    }
    return el.checked;
  }
  if (el.type === "radio") {
    const chosen = boundTo(component, field, "radio").find((radio) => radio.checked);
    return chosen ? chosen.value : null;
  }
  if (el.tagName === "SELECT" && el.multiple) {
    return [...el.selectedOptions].map((option) => option.value);
  }
  return el.value;
}

function textOf(value) {
  if (value === null || value === undefined) return "";
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

/** Show `value` in `el` (the inverse of readValue). */
export function writeValue(el, value) {
  if (el.type === "checkbox") {
    el.checked = Array.isArray(value) ? value.map(String).includes(el.value) : Boolean(value);
  } else if (el.type === "radio") {
    el.checked = value !== null && String(value) === el.value;
  } else if (el.tagName === "SELECT" && el.multiple) {
    const chosen = new Set((Array.isArray(value) ? value : [value]).map(String));
    for (const option of el.options) option.selected = chosen.has(option.value);
  } else if (el.type !== "file") {
    const text = textOf(value);
    if (el.value !== text) el.value = text;
  }
}

// Did the latest reply change `field` on purpose (rather than echo what the client had)?
function changedByServer(component, field, value) {
  const reply = component.lastReply;
  if (!reply) return false;
  const sent = reply.sent !== null && field in reply.sent;
  const before = sent ? reply.sent[field] : lookup(reply.previous, field);
  return textOf(before) !== textOf(value);
}

function sync(component) {
  for (const [el, dir] of scanDirectives(component.el, "lp-model")) {
    const field = fieldOf(dir);
    // Input not yet confirmed by a reply wins over state from an older or pushed render.
    const unsent = component.unsentValue(field);
    if (el === document.activeElement) {
      const value = lookup(component.state, field);
      if (!unsent.found && value !== undefined && changedByServer(component, field, value)) {
        writeValue(el, value);
      }
      continue;
    }
    const value = unsent.found ? unsent.value : lookup(component.state, field);
    if (value !== undefined) writeValue(el, value);
  }
}

function send(el, component, field) {
  clearTimeout(timers.get(el));
  timers.delete(el);
  component.commit(field).catch(() => {}); // failures are reported by the error path
}

function schedule(el, component, field, mode) {
  if (!mode.throttle) {
    clearTimeout(timers.get(el));
    timers.set(el, setTimeout(() => send(el, component, field), mode.wait));
    return;
  }
  if (timers.has(el)) return; // a trailing send is already due and will carry the latest value
  const wait = mode.wait - (Date.now() - (lastSent.get(el) ?? 0));
  const fire = () => {
    lastSent.set(el, Date.now());
    send(el, component, field);
  };
  if (wait <= 0) fire();
  else timers.set(el, setTimeout(fire, wait));
}

function handle(event, kind) {
  const el = event.target;
  if (el?.type === "file") return; // file inputs upload their files: see js/upload.js
  const dir = directiveOf(el, "lp-model");
  const component = dir && componentOf(el);
  const field = dir && fieldOf(dir);
  if (!component || !field) return;
  const mode = modeOf(dir);
  if (kind !== "blur") component.defer(field, readValue(el, component, field));
  if (kind !== mode.on) return;
  if (mode.wait === undefined) send(el, component, field);
  else schedule(el, component, field, mode);
}

export function install() {
  document.addEventListener("input", (event) => handle(event, "input"));
  document.addEventListener("change", (event) => handle(event, "change"));
  document.addEventListener("focusout", (event) => handle(event, "blur"));
  onHook("init", sync);
  onHook("updated", sync);
}
