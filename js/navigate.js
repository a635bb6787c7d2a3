// Navigation, client half of livepy/features/navigation: `lp-navigate` links, redirects and
// flash cookies.
//
// Clicking an `<a lp-navigate href="/path">` (same origin, plain left click) swaps the page body
// for the target page's, with a history entry, and without a reload: scripts and state of the
// page's `window` survive. The page comes over the WebSocket when it is open (a NAVIGATE frame;
// the server renders it through the app and answers with a PAGE frame), else with fetch() (the
// HTTP fallback, or no socket yet). The `<title>` follows, head elements the new page adds
// (styles, scripts) are added once, and scripts in the new body run. The livepy runtime itself
// is never loaded twice: ES modules run once per URL. Components of the old page are dropped and
// those of the new page join. Back and forward swap pages the same way.
//
// A page whose response sets cookies (a session middleware does on every response) cannot come
// over the socket: only the browser stores cookies, HttpOnly ones included. The server answers
// such a NAVIGATE with a status and no html, and the runtime fetch()es the page instead. From then
// on every page is fetched (the socket's handshake cookies are older than the browser's), and
// after each fetched page the socket reconnects: the server forgets the old page's components and
// the new connection carries the browser's current cookies.
//
// History: every entry this runtime makes holds the key of the page (the document, or the body
// swapped in) it belongs to. A back/forward to an entry of the page on screen belongs to
// URL-bound fields: this module emits the "popstate" hook, which js/url.js restores them on. An
// entry of another page swaps that page in, and no component of the page being left is called.
//
// Effects: `redirect` ({url, navigate}) loads a page after the reply's other effects ran;
// `flash` (a signed token) goes to the livepy_flash cookie, which the next page's `flashes()`
// reads and this runtime deletes once that page is shown.

import { FRAME_NAVIGATE } from "./constants.js";
import { LivepyError } from "./component.js";
import { registerEffect } from "./effects.js";
import { emitHook } from "./hooks.js";

export const FLASH_COOKIE = "livepy_flash";
export const FLASH_MAX_AGE = 300; // seconds, as livepy/features/navigation/flash.py
export const NAVIGATE_TIMEOUT_MS = 20000; // the server gives up after 15 s
export const NAVIGATE_HEADER = "X-Livepy-Navigate";

let runtime = null; // {transport, discover, overSocket()} from livepy.js
let nextNav = 1;
let current = 0; // the latest navigation: older ones that finish late are dropped
const waiting = new Map(); // nav number -> {resolve, reject, timer}
let shownPath = location.pathname + location.search;
let fetchPages = false; // a page set cookies: fetch() every page from now on
// Keys tell this window's pages apart in history.state (lpKey); a full load starts a new series.
const keyPrefix = Math.random().toString(36).slice(2, 8);
let nextKey = 1;
let pageKey = newPageKey();

function newPageKey() {
  return `${keyPrefix}.${nextKey++}`;
}

/** The history.state for an entry of the page on screen (url.js pushes such entries too). */
export function pageState() {
  return { lpPage: shownPath, lpKey: pageKey };
}

function deleteFlashCookie() {
  if (document.cookie.split("; ").some((c) => c.startsWith(FLASH_COOKIE + "="))) {
    document.cookie = `${FLASH_COOKIE}=; path=/; max-age=0; samesite=lax`;
  }
}

function sameOrigin(url) {
  return url.origin === location.origin && (url.protocol === "http:" || url.protocol === "https:");
}

/** A PAGE frame from the socket: [14, nav, status, url, html | nil, error | nil]. */
export function receivePage(frame) {
  const [, nav, status, url, html = null, error = null] = frame;
  const pending = waiting.get(nav);
  if (!pending) return;
  waiting.delete(nav);
  clearTimeout(pending.timer);
  if (Array.isArray(error)) pending.reject(new LivepyError(error[0], error[1]));
  else pending.resolve({ status, url, html: typeof html === "string" ? html : null });
}

function overSocket(path) {
  const nav = nextNav++;
  return new Promise((resolve, reject) => {
    // A page that never comes: load it the ordinary way rather than hang.
    const timer = setTimeout(() => {
      waiting.delete(nav);
      resolve({ status: 0, url: path, html: null });
    }, NAVIGATE_TIMEOUT_MS);
    waiting.set(nav, { resolve, reject, timer });
    if (!runtime.transport.send([FRAME_NAVIGATE, nav, path, document.cookie || null])) {
      waiting.delete(nav);
      clearTimeout(timer);
      resolve(null); // the socket just closed: fetch instead
    }
  });
}

async function overHttp(path) {
  let response;
  try {
    response = await fetch(path, {
      headers: { [NAVIGATE_HEADER]: "1", Accept: "text/html" },
      credentials: "same-origin",
    });
  } catch {
    return { status: 0, url: path, html: null }; // a redirect off-site, or no network
  }
  const final = new URL(response.url || path, location.href);
  const type = response.headers.get("content-type") ?? "";
  if (!sameOrigin(final) || !type.startsWith("text/html")) {
    return { status: 0, url: final.href, html: null };
  }
  return { status: response.status, url: final.pathname + final.search, html: await response.text() };
}

/** A fresh copy of a parsed <script>: parsed ones never run when inserted. */
function runnable(script) {
  const copy = document.createElement("script");
  for (const attr of script.attributes) copy.setAttribute(attr.name, attr.value);
  copy.textContent = script.textContent;
  return copy;
}

function mergeHead(head) {
  const present = new Set([...document.head.children].map((el) => el.outerHTML));
  const sources = new Set([...document.scripts].map((s) => s.src).filter(Boolean));
  for (const el of [...head.children]) {
    if (el.tagName === "TITLE" || el.id === "livepy-config" || present.has(el.outerHTML)) continue;
    if (el.tagName === "SCRIPT") {
      if (el.src && sources.has(el.src)) continue;
      document.head.appendChild(runnable(el));
    } else {
      document.head.appendChild(document.importNode(el, true));
    }
  }
}

function swap(html, url, hash) {
  const doc = new DOMParser().parseFromString(html, "text/html");
  const title = doc.querySelector("title");
  if (title) document.title = title.textContent;
  mergeHead(doc.head);
  const body = document.importNode(doc.body, true);
  for (const script of body.querySelectorAll("script")) {
    if (script.id === "livepy-config") continue;
    script.replaceWith(runnable(script));
  }
  document.body.replaceWith(body);
  shownPath = url;
  const target = hash ? document.getElementById(decodeURIComponent(hash.slice(1))) : null;
  if (target) target.scrollIntoView();
  else window.scrollTo(0, 0);
  deleteFlashCookie();
  runtime.discover();
  window.dispatchEvent(new CustomEvent("lp:navigated", { detail: { url } }));
}

/**
 * Show the page at `url` without a reload (a full load for another origin or when the page
 * cannot be swapped in). `options.history`: "push" (default), "replace" or "none".
 */
export async function navigate(url, options = {}) {
  const target = new URL(url, location.href);
  if (!sameOrigin(target) || !runtime) {
    location.assign(target.href);
    return;
  }
  const nav = ++current;
  const path = target.pathname + target.search;
  const socket = runtime.overSocket();
  let page = null;
  if (socket && !fetchPages && runtime.transport.isOpen()) {
    page = await overSocket(path);
    if (page !== null && page.html === null && page.status !== 0) {
      fetchPages = true; // it sets cookies: the browser must fetch it to store them
      page = null;
    }
  }
  if (page === null) page = await overHttp(path);
  if (nav !== current) return; // a newer navigation took over
  if (page.html === null) {
    location.assign(new URL(page.url, location.href).href);
    return;
  }
  const history_ = options.history ?? "push";
  const shown = page.url + target.hash;
  // A back/forward (history "none") shows the entry's own page: it keeps its key.
  pageKey = options.key ?? newPageKey();
  const state = { lpPage: page.url, lpKey: pageKey };
  if (history_ === "push") history.pushState(state, "", shown);
  else history.replaceState(state, "", history_ === "replace" ? shown : location.href);
  // A fetched page while the socket is in use: a fresh connection drops the old page's
  // components on the server and carries the cookies the fetch stored. Before the swap, so the
  // new page's components join once, on the new connection.
  if (socket && fetchPages) runtime.reconnect();
  swap(page.html, page.url, target.hash);
}

function onClick(event) {
  if (event.defaultPrevented || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const start = event.target instanceof Element ? event.target : event.target?.parentElement;
  const link = start?.closest("a[lp-navigate]");
  if (!link || link.hasAttribute("download")) return;
  if (link.target && link.target !== "_self") return;
  const url = new URL(link.href, location.href);
  if (!sameOrigin(url)) return; // the browser follows it
  if (url.pathname + url.search === location.pathname + location.search && url.hash) return;
  event.preventDefault();
  navigate(url.href).catch((err) => console.error("livepy: navigation failed:", err.message));
}

/** Whether a back/forward to an entry with `state` shows another page than the one on screen. */
export function isOtherPage(state) {
  const key = state?.lpKey;
  if (typeof key === "string") return key !== pageKey;
  // An entry this runtime did not make (a hash link, the app's own pushState): another path
  // is another page, a query-only change belongs to URL-bound fields.
  const path = location.pathname + location.search;
  if (path === shownPath) return false;
  return location.pathname !== new URL(shownPath, location.href).pathname;
}

function onPopState(event) {
  if (!isOtherPage(event.state)) {
    emitHook("popstate", event.state); // URL-bound fields of this page (url.js)
    return;
  }
  const key = typeof event.state?.lpKey === "string" ? event.state.lpKey : undefined;
  navigate(location.href, { history: "none", key }).catch((err) => {
    console.error("livepy: navigation failed:", err.message);
    location.reload();
  });
}

/** Called once by livepy.js before it connects. */
export function installNavigation(options) {
  if (runtime) return;
  runtime = options;
  deleteFlashCookie(); // this page's render has read it
  history.replaceState({ ...(history.state ?? {}), ...pageState() }, "");
  document.addEventListener("click", onClick);
  window.addEventListener("popstate", onPopState);
}

registerEffect("redirect", (component, values) => {
  const value = values[values.length - 1];
  if (!value || typeof value.url !== "string") return;
  // After this reply's other effects (a flash cookie, events) have run.
  setTimeout(() => {
    if (value.navigate) {
      navigate(value.url).catch((err) => console.error("livepy: redirect failed:", err.message));
    } else {
      location.assign(value.url);
    }
  }, 0);
});

registerEffect("flash", (component, values) => {
  const token = values[values.length - 1];
  if (typeof token !== "string" || !/^[\w.-]+$/.test(token)) return;
  const secure = location.protocol === "https:" ? "; secure" : "";
  document.cookie = `${FLASH_COOKIE}=${token}; path=/; max-age=${FLASH_MAX_AGE}; samesite=lax${secure}`;
});
