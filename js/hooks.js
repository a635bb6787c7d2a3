// Internal hook bus between the core and the directives.
//
// Components announce lifecycle moments here and directives subscribe, so the core never has to
// import a directive by name. Hook names:
//   "init"    (component)            a component was created from the page
//   "updated" (component)            after a REPLY was applied (morph, snapshot, state)
//   "busy"    (component)            the set of in-flight or queued work changed
//   "removed" (component)            the component's root left the page (after destroy())
//   "join"    (component)            join this component now (it was held back by joinHeld)
//   "status"  (connected: boolean)   the socket opened or dropped
//   "popstate" (state)               back/forward to another entry of the page on screen

const listeners = new Map();

export function onHook(name, fn) {
  if (!listeners.has(name)) listeners.set(name, []);
  listeners.get(name).push(fn);
}

export function emitHook(name, ...args) {
  for (const fn of listeners.get(name) ?? []) {
    try {
      fn(...args);
    } catch (err) {
      // one broken directive must not stop the others or the reply being applied
      console.error(`livepy: "${name}" hook failed`, err);
    }
  }
}
