// Directive registry: every directive module exports install(), run once at start-up.

import * as click from "./click.js";
import * as keydown from "./keydown.js";
import * as loading from "./loading.js";
import * as model from "./model.js";
import * as offline from "./offline.js";
import * as submit from "./submit.js";

export const directives = { click, keydown, loading, model, offline, submit };

let installed = false;

export function installDirectives() {
  if (installed) return;
  installed = true;
  for (const directive of Object.values(directives)) directive.install();
}
