// Turning a directive expression into work for a component: an action call or a magic action.
//
// Magic actions: $refresh (re-render, no call), $set('field', value), $toggle('field').

import { parseCall } from "./expression.js";
import { lookup } from "./snapshot.js";

// Failures are already reported (console, lp:error, overlay); an unobserved promise rejection
// would only add noise.
const ignore = () => {};

function current(component, field) {
  const unsent = component.unsentValue(field);
  return unsent.found ? unsent.value : lookup(component.state, field);
}

export function runExpression(component, source) {
  let parsed;
  try {
    parsed = parseCall(source);
  } catch (err) {
    console.error(err.message);
    return null;
  }
  const { method, args } = parsed;
  let done;
  if (method === "$refresh") done = component.refresh();
  else if (method === "$set" || method === "$toggle") {
    if (typeof args[0] !== "string") {
      console.error(`livepy: ${method} needs a field name as its first argument in "${source}"`);
      return null;
    }
    const field = args[0];
    done = component.set(field, method === "$set" ? (args[1] ?? null) : !current(component, field));
  } else if (method.startsWith("$")) {
    console.error(`livepy: unknown magic action ${method} in "${source}"`);
    return null;
  } else done = component.call(method, ...args);
  done.catch(ignore);
  return done;
}
