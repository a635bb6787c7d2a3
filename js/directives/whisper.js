// lp-whisper="presence-room.1:typing": whisper `typing` on the channel when the user acts.
//
// Modifiers: the DOM event that whispers (input, keydown, keyup, change, click, focus, blur;
// default input) and a throttle duration (default 500ms: at most one whisper per element per
// interval, which keeps a fast typist well under the server's 10 whispers per second).
// `lp-whisper-data='{"field": "message"}'` gives the whisper's data (JSON; default {}).
// Examples: `lp-whisper="private-doc.7:editing"`, `lp-whisper.focus.2s="presence-room.1:looking"`.
// Other pages receive it with `livepy.channel(name).listenForWhisper("typing", cb)` or a
// component's `@on("presence-room.{room_id}", "client-typing")`.

import { durationOf } from "../attrs.js";
import { channel } from "../channels.js";
import { delegate } from "../delegate.js";

export const DEFAULT_WHISPER_THROTTLE_MS = 500;
const EVENTS = { input: "input", keydown: "keydown", keyup: "keyup", change: "change",
  click: "click", focus: "focusin", blur: "focusout" };
const lastSent = new WeakMap(); // element -> time of its last whisper

/** "presence-room.1:typing" -> ["presence-room.1", "typing"] (channel names have no colon). */
export function parseWhisper(value) {
  const at = String(value).lastIndexOf(":");
  if (at <= 0 || at === value.length - 1) return null;
  return [value.slice(0, at).trim(), value.slice(at + 1).trim()];
}

function domEventOf(modifiers) {
  for (const mod of modifiers) if (EVENTS[mod]) return EVENTS[mod];
  return "input";
}

export function install() {
  for (const type of new Set(Object.values(EVENTS))) {
    delegate(type, "lp-whisper", (event, el, dir) => {
      if (domEventOf(dir.modifiers) !== type) return false;
      const target = parseWhisper(dir.value);
      if (!target) {
        console.warn(`livepy: lp-whisper="${dir.value}" should read "channel:event"`);
        return false;
      }
      const now = Date.now();
      const interval = durationOf(dir.modifiers, DEFAULT_WHISPER_THROTTLE_MS);
      if (now - (lastSent.get(el) ?? -Infinity) < interval) return true;
      lastSent.set(el, now);
      let data = {};
      const raw = el.getAttribute("lp-whisper-data");
      if (raw) {
        try {
          data = JSON.parse(raw);
        } catch {
          console.warn("livepy: lp-whisper-data is not valid JSON", raw);
        }
      }
      channel(target[0]).whisper(target[1], data);
      return true;
    });
  }
}
