// Directive registry: every directive module exports install(), run once at start-up.

import * as click from "./click.js";
import * as confirm from "./confirm.js";
import * as dirty from "./dirty.js";
import * as hook from "./hook.js";
import * as init from "./init.js";
import * as keydown from "./keydown.js";
import * as lazy from "./lazy.js";
import * as loading from "./loading.js";
import * as model from "./model.js";
import * as offline from "./offline.js";
import * as poll from "./poll.js";
import * as submit from "./submit.js";
import * as transition from "./transition.js";
import * as whisper from "./whisper.js";
import * as upload from "../upload.js";
import * as stream from "../stream.js";

// Installed in this order; dirty comes after model, whose input listener records the value.
export const directives = {
  click,
  keydown,
  loading,
  model,
  offline,
  submit,
  confirm,
  dirty,
  hook,
  init,
  lazy,
  poll,
  transition,
  whisper,
  upload,
  stream,
};

let installed = false;

export function installDirectives() {
  if (installed) return;
  installed = true;
  for (const directive of Object.values(directives)) directive.install();
}
