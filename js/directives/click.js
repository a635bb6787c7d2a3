// lp-click="method(args)": call an action when the element is clicked.

import { runExpression } from "../actions.js";
import { delegate } from "../delegate.js";

export function install() {
  delegate("click", "lp-click", (event, el, dir, component) => {
    runExpression(component, dir.value);
  });
}
