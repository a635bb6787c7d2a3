// lp-lazy="visible": the server put this on the placeholder of `livepy("name", lazy="visible")`.
// The component does not join (so the server does not mount it) until its placeholder scrolls
// into view. A plain `lazy=True` placeholder needs nothing here: it joins like any component,
// and the JOINED html replaces the placeholder.

import { emitHook, onHook } from "../hooks.js";

function hold(component) {
  if (component.el.getAttribute("lp-lazy") !== "visible") return;
  if (typeof IntersectionObserver !== "function") return; // join at once rather than never
  component.joinHeld = true;
  const observer = new IntersectionObserver((entries) => {
    if (!entries.some((entry) => entry.isIntersecting)) return;
    observer.disconnect();
    component.joinHeld = false;
    emitHook("join", component);
  });
  observer.observe(component.el);
}

export function install() {
  onHook("init", hold);
}
