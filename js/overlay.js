// Surfacing server errors: console, a bubbling `lp:error` DOM event, and in debug mode an
// overlay with the message and traceback. Server text only ever goes in through textContent.

export const OVERLAY_ID = "livepy-error-overlay";

/**
 * Report an ERROR frame. `component` is the Component it concerns, or null.
 * A listener can call preventDefault() on `lp:error` to keep the overlay away.
 */
export function reportError({ code, message, detail = null, component = null }, debug = false) {
  console.error(`livepy: ${code}: ${message}`, ...(detail ? [`\n${detail}`] : []));
  const target = component?.el?.isConnected ? component.el : window;
  const event = new CustomEvent("lp:error", {
    bubbles: true,
    cancelable: true,
    detail: { code, message, component: component?.id ?? null },
  });
  const proceed = target.dispatchEvent(event);
  if (debug && proceed) showOverlay(code, message, detail);
}

function element(tag, style, text) {
  const el = document.createElement(tag);
  el.style.cssText = style;
  if (text !== undefined) el.textContent = text;
  return el;
}

export function showOverlay(code, message, detail) {
  document.getElementById(OVERLAY_ID)?.remove();
  const overlay = element(
    "div",
    "position:fixed;inset:0;z-index:2147483647;background:rgba(0,0,0,.55);display:flex;" +
      "align-items:flex-start;justify-content:center;padding:5vh 1rem;box-sizing:border-box",
  );
  overlay.id = OVERLAY_ID;
  overlay.setAttribute("role", "alertdialog");
  overlay.setAttribute("aria-label", "livepy error");
  const box = element(
    "div",
    "background:#fff;color:#111;width:100%;max-width:60rem;max-height:90vh;overflow:auto;" +
      "border-radius:6px;padding:1rem 1.25rem;font:14px/1.45 system-ui,sans-serif;" +
      "box-shadow:0 10px 40px rgba(0,0,0,.4);border-top:4px solid #c0392b",
  );
  const close = element(
    "button",
    "float:right;font-size:1.25rem;line-height:1;border:0;background:none;cursor:pointer",
    "\u00d7",
  );
  close.type = "button";
  close.setAttribute("data-lp-dismiss", "");
  close.setAttribute("aria-label", "Close");
  box.append(
    close,
    element("div", "font-weight:600;color:#c0392b;margin-bottom:.5rem", `livepy error: ${code}`),
    element("div", "white-space:pre-wrap;margin-bottom:.75rem", message),
  );
  if (detail) {
    box.append(
      element(
        "pre",
        "white-space:pre-wrap;background:#f6f6f6;padding:.75rem;border-radius:4px;" +
          "font:12px/1.4 ui-monospace,monospace;margin:0",
        String(detail),
      ),
    );
  }
  overlay.append(box);
  const dismiss = () => {
    overlay.remove();
    document.removeEventListener("keydown", onKey);
  };
  const onKey = (event) => event.key === "Escape" && dismiss();
  close.addEventListener("click", dismiss);
  overlay.addEventListener("click", (event) => event.target === overlay && dismiss());
  document.addEventListener("keydown", onKey);
  document.body.append(overlay);
  return overlay;
}
