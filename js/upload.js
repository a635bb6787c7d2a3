// lp-model on <input type="file">: upload the chosen files, then set the field to their ids.
//
// 1. POST {config.upload} with the component's signed snapshot, the field and each file's name
//    and size: the server checks that the field takes files and that the sizes fit, and answers
//    one signed, single-use URL per file.
// 2. PUT each file to its URL with XMLHttpRequest (fetch cannot report upload progress), at most
//    MAX_PARALLEL at a time.
// 3. Set the field to the ids the server returned (a list for `multiple`): the server resolves
//    them to UploadedFile values and validates them like any model update.
//
// Events on the input (they bubble): lp:upload-start, lp:upload-progress {percent, loaded,
// total}, lp:upload-finish {ids}, lp:upload-error {code, message}. A failure is also set on the
// field as {error: code, name}, so the server turns it into an error-bag message.
// Elements with lp-upload-progress="field" show the progress without any JS of the page's own: a
// <progress> gets its value (0-100), every one gets data-progress and the --lp-upload-progress
// CSS variable ("42%"), and data-uploading while an upload runs.

import { directiveOf, scanDirectives } from "./attrs.js";
import { encode } from "./codec.js";
import { componentOf } from "./registry.js";
import { snapshotWire } from "./snapshot.js";

export const MAX_PARALLEL = 2;
const running = new WeakMap(); // input -> the upload in progress, so a new choice cancels it

function uploadBase() {
  const config = window.livepy?.config ?? {};
  return config.upload ?? String(config.ws ?? "/livepy/ws").replace(/\/ws$/, "/upload");
}

function emit(el, name, detail) {
  el.dispatchEvent(new CustomEvent(name, { bubbles: true, detail }));
}

class UploadFailure extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

// A refusal's JSON body {code, message}, or a code made up from the status.
function failureOf(status, text) {
  try {
    const body = JSON.parse(text);
    if (body && typeof body.code === "string") return new UploadFailure(body.code, body.message);
  } catch {
    // not JSON: a proxy's error page, say
  }
  if (status === 413) return new UploadFailure("upload_too_large", "the file is too large");
  return new UploadFailure("upload_refused", `the server answered ${status}`);
}

function showProgress(component, field, percent) {
  for (const [el, dir] of scanDirectives(component.el, "lp-upload-progress")) {
    if (dir.value.trim() !== field) continue;
    if (percent === null) {
      el.removeAttribute("data-uploading");
      continue;
    }
    el.setAttribute("data-uploading", "");
    el.setAttribute("data-progress", String(percent));
    el.style.setProperty("--lp-upload-progress", `${percent}%`);
    if (el instanceof HTMLProgressElement) {
      el.max = 100;
      el.value = percent;
    }
  }
}

async function askForUrls(component, field, files) {
  const body = encode([
    snapshotWire(component.snapshot),
    field,
    files.map((file) => [file.name, file.size]),
  ]);
  let response;
  try {
    response = await fetch(uploadBase(), {
      method: "POST",
      headers: { "X-Livepy": "1", "Content-Type": "application/msgpack" },
      body,
    });
  } catch {
    throw new UploadFailure("upload_aborted", "the upload could not reach the server");
  }
  const text = await response.text();
  if (!response.ok) throw failureOf(response.status, text);
  return JSON.parse(text).uploads.map((upload) => upload.url);
}

function send(upload, url, file, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    upload.requests.add(xhr);
    xhr.open("PUT", url);
    xhr.setRequestHeader("X-Livepy", "1");
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.upload.onprogress = (event) => onProgress(event.loaded);
    xhr.onload = () => {
      upload.requests.delete(xhr);
      if (xhr.status === 200) {
        onProgress(file.size);
        resolve(JSON.parse(xhr.responseText).id);
      } else {
        reject(failureOf(xhr.status, xhr.responseText));
      }
    };
    const broken = () => {
      upload.requests.delete(xhr);
      reject(new UploadFailure("upload_aborted", "the upload stopped before the end"));
    };
    xhr.onerror = broken;
    xhr.onabort = broken;
    xhr.send(file);
  });
}

async function sendAll(upload, urls, files, onProgress) {
  const ids = new Array(files.length);
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const index = next++;
      ids[index] = await send(upload, urls[index], files[index], (loaded) =>
        onProgress(index, loaded),
      );
    }
  };
  await Promise.all(Array.from({ length: Math.min(MAX_PARALLEL, files.length) }, worker));
  return ids;
}

/** Upload `files` into `field` of `component`; `el` (the input) receives the events. */
export async function upload(component, field, files, { multiple = false, el = null } = {}) {
  const target = el ?? component.el;
  const previous = el ? running.get(el) : null;
  if (previous) {
    previous.cancelled = true;
    previous.requests.forEach((xhr) => xhr.abort());
  }
  const current = { cancelled: false, requests: new Set() };
  if (el) running.set(el, current);
  if (files.length === 0) return component.set(field, multiple ? [] : null);

  const total = files.reduce((sum, file) => sum + file.size, 0);
  const loadedBy = new Array(files.length).fill(0);
  let shown = -1;
  const progress = (index, loaded) => {
    loadedBy[index] = loaded;
    const sum = loadedBy.reduce((a, b) => a + b, 0);
    const percent = total === 0 ? 100 : Math.min(100, Math.floor((sum * 100) / total));
    if (percent === shown) return;
    shown = percent;
    showProgress(component, field, percent);
    emit(target, "lp:upload-progress", { field, percent, loaded: sum, total });
  };
  emit(target, "lp:upload-start", { field, files: files.map((file) => file.name) });
  progress(0, 0);
  try {
    const urls = await askForUrls(component, field, files);
    const ids = await sendAll(current, urls, files, progress);
    if (current.cancelled) return null;
    showProgress(component, field, null);
    const done = component.set(field, multiple ? ids : ids[0]);
    emit(target, "lp:upload-finish", { field, ids });
    return done;
  } catch (err) {
    if (current.cancelled) return null;
    showProgress(component, field, null);
    const code = err instanceof UploadFailure ? err.code : "upload_refused";
    const failure = { error: code, name: files[0].name };
    emit(target, "lp:upload-error", { field, code, message: err.message });
    return component.set(field, multiple ? [failure] : failure);
  } finally {
    if (el && running.get(el) === current) running.delete(el);
  }
}

function onChange(event) {
  const el = event.target;
  if (!(el instanceof HTMLInputElement) || el.type !== "file") return;
  const dir = directiveOf(el, "lp-model");
  const component = dir && componentOf(el);
  const field = dir?.value.trim();
  if (!component || !field || component.snapshot === null) return;
  upload(component, field, [...(el.files ?? [])], { multiple: el.multiple, el }).catch(() => {
    // refusals of the model update are reported by the error path
  });
}

export function install() {
  document.addEventListener("change", onChange);
}
