// The live components of the page, by component id, and lookup from any element to its owner.

import { ATTR_ID } from "./constants.js";
import { rootOf } from "./attrs.js";

export const components = new Map();

/** The component owning `el` (its closest lp-id root), or null. */
export function componentOf(el) {
  const root = rootOf(el);
  return root ? (components.get(root.getAttribute(ATTR_ID)) ?? null) : null;
}
