// lp-poll: re-render (or call an action) on a timer. `lp-poll` refreshes every 2 s,
// `lp-poll.5s="tick"` calls `tick` every 5 s, `lp-poll.500ms` is allowed too.
//
//   .visible      only while the element is in the viewport
//   .keep-alive   keep polling while the tab is in the background
//
// By default a poll is skipped while `document.hidden`, and a poll that was skipped that way
// runs as soon as the tab is shown again. A tick is also skipped while the component has work in
// flight or queued, or is not joined: polls never pile up behind a slow server or a dead socket.

import { durationOf, scanDirectives } from "../attrs.js";
import { runExpression } from "../actions.js";
import { onHook } from "../hooks.js";
import { components } from "../registry.js";

export const DEFAULT_INTERVAL_MS = 2000;
const MIN_INTERVAL_MS = 50; // a typo such as `.1ms` must not flood the server

const pollers = new Map(); // component -> Map(element -> poller)

class Poller {
  constructor(component, el, dir) {
    this.component = component;
    this.el = el;
    this.signature = `${dir.name}=${dir.value}`;
    this.expression = dir.value.trim() || "$refresh";
    this.keepAlive = dir.modifiers.includes("keep-alive");
    this.interval = Math.max(MIN_INTERVAL_MS, durationOf(dir.modifiers, DEFAULT_INTERVAL_MS));
    this.missedWhileHidden = false;
    this.inView = true;
    this.observer = null;
    if (dir.modifiers.includes("visible") && typeof IntersectionObserver === "function") {
      this.inView = false;
      this.observer = new IntersectionObserver((entries) => {
        this.inView = entries.some((entry) => entry.isIntersecting);
      });
      this.observer.observe(el);
    }
    this.timer = setInterval(() => this.tick(), this.interval);
  }

  /** Why this tick does not poll, or null when it should. */
  skipReason() {
    if (document.hidden && !this.keepAlive) return "hidden";
    if (!this.inView) return "out of view";
    const component = this.component;
    if (!component.joined || component.failure) return "not joined";
    if (component.busy) return "busy";
    return null;
  }

  tick() {
    if (components.get(this.component.id) !== this.component) {
      stopAll(this.component); // the component left the page
      return;
    }
    const reason = this.skipReason();
    if (reason === "hidden") this.missedWhileHidden = true;
    if (reason !== null) return;
    this.missedWhileHidden = false;
    runExpression(this.component, this.expression);
  }

  /** The tab is shown again: catch up at once, then keep the regular rhythm. */
  resume() {
    if (!this.missedWhileHidden) return;
    clearInterval(this.timer);
    this.timer = setInterval(() => this.tick(), this.interval);
    this.tick();
  }

  stop() {
    clearInterval(this.timer);
    this.observer?.disconnect();
  }
}

function stopAll(component) {
  for (const poller of pollers.get(component)?.values() ?? []) poller.stop();
  pollers.delete(component);
}

/** Start pollers for new lp-poll elements and stop those whose element or attribute went away. */
function sync(component) {
  const current = pollers.get(component) ?? new Map();
  const found = new Map();
  for (const [el, dir] of scanDirectives(component.el, "lp-poll")) {
    if (!found.has(el)) found.set(el, dir); // one poller per element
  }
  for (const [el, poller] of current) {
    const dir = found.get(el);
    if (!dir || `${dir.name}=${dir.value}` !== poller.signature) {
      poller.stop();
      current.delete(el);
    }
  }
  for (const [el, dir] of found) {
    if (!current.has(el)) current.set(el, new Poller(component, el, dir));
  }
  if (current.size > 0) pollers.set(component, current);
  else pollers.delete(component);
}

export function install() {
  onHook("init", sync);
  onHook("updated", sync);
  onHook("removed", stopAll);
  document.addEventListener("visibilitychange", () => {
    if (document.hidden) return;
    for (const byEl of pollers.values()) for (const poller of byEl.values()) poller.resume();
  });
}
