// Switching an element between its normal and its "active" look, shared by lp-loading and
// lp-offline. Modifiers decide the look:
//   (none) / .inline-block / .block / .flex / .inline / .grid / .table   shown only while active
//   .remove                  hidden while active
//   .class="a b"             classes added while active (.class.remove: removed while active)
//   .attr="disabled"         attribute set while active
// Only what this module changed is undone, and a morph in between (which resets the element to
// the server's markup) voids the record instead of undoing.

const DISPLAYS = ["inline-block", "block", "flex", "inline", "grid", "table"];
const records = new WeakMap(); // element -> Map(directive name -> {generation, ...what changed})

function recordFor(el, dir, generation) {
  let byName = records.get(el);
  if (!byName) records.set(el, (byName = new Map()));
  let record = byName.get(dir.name);
  if (!record || record.generation !== generation) {
    record = { generation, active: false, classes: [], attr: false, display: null };
    byName.set(dir.name, record);
  }
  return record;
}

function activate(el, dir, record) {
  const mods = dir.modifiers;
  if (mods.includes("class")) {
    const names = dir.value.split(/\s+/).filter(Boolean);
    const removing = mods.includes("remove");
    record.classes = names.filter((name) => el.classList.contains(name) === removing);
    if (removing) el.classList.remove(...record.classes);
    else el.classList.add(...record.classes);
  } else if (mods.includes("attr")) {
    const name = dir.value.trim() || "disabled";
    record.attr = !el.hasAttribute(name);
    if (record.attr) el.setAttribute(name, "");
  } else if (mods.includes("remove")) {
    record.display = el.style.display;
    el.style.display = "none";
  } else {
    el.style.display = DISPLAYS.find((d) => mods.includes(d)) ?? "inline-block";
  }
}

function deactivate(el, dir, record) {
  const mods = dir.modifiers;
  if (mods.includes("class")) {
    if (mods.includes("remove")) el.classList.add(...record.classes);
    else el.classList.remove(...record.classes);
  } else if (mods.includes("attr")) {
    if (record.attr) el.removeAttribute(dir.value.trim() || "disabled");
  } else if (mods.includes("remove")) {
    el.style.display = record.display ?? "";
  }
}

/** Put `el` in the state `active` calls for. `generation` changes whenever a morph happened. */
export function toggle(el, dir, active, generation) {
  const mods = dir.modifiers;
  const showType = !["class", "attr", "remove"].some((m) => mods.includes(m));
  // Shown-while-active elements are hidden otherwise; the page CSS only covers the bare name.
  if (showType && !active) el.style.display = "none";
  const record = recordFor(el, dir, generation);
  if (record.active === active) return;
  record.active = active;
  if (active) activate(el, dir, record);
  else if (!showType) deactivate(el, dir, record);
}
