// Effects: what a server request asks the browser to do once its reply is applied (dispatch an
// event, redirect, update the URL...). A REPLY carries them as {kind: [value, ...]}. Each feature
// registers the handler of its kind here; a kind nobody handles is reported, never fatal.

const handlers = new Map();

/** Register `handler(component, values)` for effects of `kind`; returns an unregister function. */
export function registerEffect(kind, handler) {
  handlers.set(kind, handler);
  return () => {
    if (handlers.get(kind) === handler) handlers.delete(kind);
  };
}

/** Run a reply's effects for `component`, after its DOM was morphed. */
export function runEffects(component, effects) {
  if (effects === null || effects === undefined || typeof effects !== "object") return;
  for (const [kind, values] of Object.entries(effects)) {
    const handler = handlers.get(kind);
    if (!handler) {
      console.warn(`livepy: no handler for the effect ${JSON.stringify(kind)}`);
      continue;
    }
    try {
      handler(component, Array.isArray(values) ? values : [values]);
    } catch (err) {
      console.error(`livepy: the ${kind} effect of component ${component.id} failed`, err);
    }
  }
}
