// Event delegation for directives: one document listener per event type, so elements that a
// morph adds later work without being wired up.

import { directivesOf } from "./attrs.js";
import { componentOf } from "./registry.js";

/**
 * Run `handler(event, el, directive, component)` for every `name` directive on the event's
 * target and its ancestors. The handler returns false when the event is not for it (a key that
 * does not match, say); otherwise `.prevent` and `.stop` apply. `.stop` ends the walk, so outer
 * directives do not fire (listeners outside livepy have already seen the event: it bubbled here).
 * `.self` only fires when the event's target is the element itself.
 */
export function delegate(type, name, handler) {
  document.addEventListener(type, (event) => {
    const start = event.target instanceof Element ? event.target : event.target?.parentElement;
    for (let el = start; el; el = el.parentElement) {
      let stop = false;
      for (const dir of directivesOf(el, name)) {
        if (dir.modifiers.includes("self") && event.target !== el) continue;
        const component = componentOf(el);
        if (!component || handler(event, el, dir, component) === false) continue;
        if (dir.modifiers.includes("prevent")) event.preventDefault();
        if (dir.modifiers.includes("stop")) {
          event.stopPropagation();
          stop = true;
        }
      }
      if (stop) return;
    }
  });
}
