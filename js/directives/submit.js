// lp-submit="method(args)" on a form: call an action instead of submitting the page.
// Model values the user changed ride along with the call.

import { runExpression } from "../actions.js";
import { delegate } from "../delegate.js";

export function install() {
  delegate("submit", "lp-submit", (event, el, dir, component) => {
    event.preventDefault();
    runExpression(component, dir.value);
  });
}
