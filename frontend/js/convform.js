// The form of one conversation's settings (the chat header's panel): model, system prompt,
// thinking and Ollama options. Empty fields mean "the model's default". Values are parsed
// here; the ranges are the backend's, and its refusals are shown beside the field.
import { el } from "./util.js";

// The ranges are the backend's (OPTION_RULES in store/validation.py), checked here too so
// that one Save flags every bad field at once; the backend still decides, and names every
// bad option it finds (errorsFromServer).
export const OPTION_FIELDS = [
  { key: "temperature", label: "Temperature", integer: false, hint: "e.g. 0.7", min: 0 },
  { key: "top_p", label: "Top P", integer: false, hint: "0 – 1", min: 0, max: 1 },
  { key: "num_ctx", label: "Context size", integer: true, hint: "num_ctx", min: 1 },
  { key: "seed", label: "Seed", integer: true, hint: "for repeatable replies" },
];
const THINK_CHOICES = [
  ["default", "Default"],
  ["on", "On"],
  ["off", "Off"],
];

function field(label, control, { id, error = null, hint = null }) {
  control.id = id;
  return el(
    "div",
    { class: "cs-field" },
    el(
      "div",
      { class: "cs-label-row" },
      el("label", { for: id, class: "cs-label", text: label }),
      hint ? el("span", { class: "cs-hint", id: `${id}-hint`, text: hint }) : null,
    ),
    control,
    error,
  );
}

function errorLine(key) {
  const id = `opt-${key}-error`;
  return el("p", {
    class: "cs-field-error",
    id,
    "data-testid": `chat-settings-${key}-error`,
    hidden: true,
  });
}

/**
 * The header picker's models, grouped as it groups them: each option is a model on one
 * endpoint (two servers may share a model's name), so the pair is kept together.
 */
function modelSelect(current, endpointId) {
  const picker = document.getElementById("model-select");
  const endpoint = endpointId || "ollama";
  const select = el("select", { "data-testid": "chat-settings-model" });
  const copy = (o) => {
    const option = el("option", { value: o.value, text: o.textContent });
    option.dataset.endpoint = o.dataset.endpoint || "ollama";
    option.selected = o.value === current && option.dataset.endpoint === endpoint;
    return option;
  };
  for (const child of picker.children) {
    if (child.tagName === "OPTGROUP") {
      const group = el("optgroup", { label: child.label });
      group.append(...[...child.children].filter((o) => o.value).map(copy));
      select.append(group);
    } else if (child.value) select.append(copy(child));
  }
  if (current && !select.selectedOptions.length) {
    // Gone from its server (or the list is not loaded): kept, and said so.
    const gone = el("option", { value: current, text: `${current} (not available)` });
    gone.dataset.endpoint = endpoint;
    gone.selected = true;
    select.prepend(gone);
  }
  return select;
}

function thinkGroup(think, controls) {
  const checked = think === true ? "on" : think === false ? "off" : "default";
  const options = THINK_CHOICES.map(([value, label]) =>
    el(
      "label",
      { class: "cs-seg-opt" },
      el("input", {
        type: "radio",
        name: "chat-think",
        value,
        checked: value === checked,
        "data-testid": `chat-settings-think-${value}`,
      }),
      el("span", { text: label }),
    ),
  );
  controls.think = options.map((label) => label.querySelector("input"));
  return el(
    "fieldset",
    { class: "cs-field cs-think" },
    el("legend", { class: "cs-label", text: "Thinking" }),
    el(
      "div",
      { class: "cs-think-row" },
      el("div", { class: "cs-seg", role: "radiogroup", "aria-label": "Thinking" }, ...options),
      el("span", {
        class: "cs-hint",
        text: "For reasoning models; Default lets the model decide.",
      }),
    ),
  );
}

/** Build the form for a conversation (or a new chat: `conversation` null). */
export function buildForm(conversation) {
  const c = conversation || {};
  const controls = { model: modelSelect(c.model, c.endpoint_id), options: {}, errors: {} };
  controls.system = el("textarea", {
    rows: 3,
    "data-testid": "chat-settings-system",
    placeholder: "e.g. You are a concise assistant. Answer in British English.",
  });
  controls.system.value = c.system_prompt || "";
  const grid = el("div", { class: "cs-grid" });
  for (const f of OPTION_FIELDS) {
    const input = el("input", {
      type: "text",
      inputmode: f.integer ? "numeric" : "decimal",
      placeholder: "Default",
      autocomplete: "off",
      spellcheck: "false",
      "data-testid": `chat-settings-${f.key}`,
      "aria-describedby": `opt-${f.key}-hint opt-${f.key}-error`,
    });
    const value = (c.options || {})[f.key];
    input.value = value === undefined || value === null ? "" : String(value);
    controls.options[f.key] = input;
    input.addEventListener("input", () => clearError(controls, f.key));
    controls.errors[f.key] = errorLine(f.key);
    grid.append(
      field(f.label, input, { id: `opt-${f.key}`, hint: f.hint, error: controls.errors[f.key] }),
    );
  }
  controls.formError = el("p", {
    class: "cs-form-error",
    "data-testid": "chat-settings-error",
    role: "alert",
    hidden: true,
  });
  const body = el(
    "div",
    { class: "cs-body" },
    field("Model", controls.model, { id: "set-model" }),
    field("System prompt", controls.system, { id: "set-system" }),
    thinkGroup(c.think, controls),
    el("div", { class: "cs-section", text: "Sampling" }),
    grid,
    el("p", { class: "cs-note", text: "Empty fields use the model's default." }),
    controls.formError,
  );
  return { body, controls };
}

function parseNumber(raw, { integer, min, max }) {
  const text = raw.trim().replace(/^\+/, "");
  if (!/^-?(\d+\.?\d*|\.\d+)(e-?\d+)?$/i.test(text)) return { error: "Enter a number" };
  const value = Number(text);
  if (!Number.isFinite(value)) return { error: "Enter a number" };
  if (integer && !Number.isInteger(value)) return { error: "Enter a whole number" };
  if (value < min || value > max) {
    const bounds = max === undefined ? `at least ${min}` : `between ${min} and ${max}`;
    return { error: `Must be ${bounds}` };
  }
  return { value };
}

/** The PATCH body from the form, or {errors} (key -> message) for every value that is bad. */
export function readForm(controls, conversation) {
  const options = { ...((conversation && conversation.options) || {}) }; // keep keys not shown
  const errors = {};
  for (const f of OPTION_FIELDS) {
    const raw = controls.options[f.key].value;
    delete options[f.key];
    if (!raw.trim()) continue;
    const parsed = parseNumber(raw, f);
    if (parsed.error) errors[f.key] = parsed.error;
    else options[f.key] = parsed.value;
  }
  if (Object.keys(errors).length) return { errors };
  const think = controls.think.find((radio) => radio.checked);
  const choice = think ? think.value : "default";
  const system = controls.system.value;
  const chosen = controls.model.selectedOptions[0];
  return {
    fields: {
      model: chosen ? chosen.value : null,
      endpoint_id: chosen ? chosen.dataset.endpoint : null,
      system_prompt: system.trim() ? system : null,
      think: choice === "on" ? true : choice === "off" ? false : null,
      options,
    },
  };
}

/** Show errors inline: per field when the message names an option, else under the form. */
export function showErrors(controls, errors, general = "") {
  for (const f of OPTION_FIELDS) {
    const line = controls.errors[f.key];
    const message = errors[f.key] || "";
    line.textContent = message;
    line.hidden = !message;
    controls.options[f.key].setAttribute("aria-invalid", message ? "true" : "false");
  }
  controls.formError.textContent = general;
  controls.formError.hidden = !general;
  const first = OPTION_FIELDS.find((f) => errors[f.key]);
  if (first) controls.options[first.key].focus();
}

function clearError(controls, key) {
  controls.errors[key].hidden = true;
  controls.options[key].setAttribute("aria-invalid", "false");
}

/**
 * "Option 'top_p' must be between 0 and 1; Option 'top_k' must be at least 0" ->
 * {top_p: "Must be between 0 and 1", top_k: "Must be at least 0"}: the server names every
 * bad option. null when one it names is not a field of the form (then it says it whole).
 */
export function errorsFromServer(message) {
  const errors = {};
  for (const part of (message || "").split("; ")) {
    const match = /^Option '(\w+)' (.*)$/.exec(part);
    if (!match || !OPTION_FIELDS.some((f) => f.key === match[1])) return null;
    errors[match[1]] = match[2].charAt(0).toUpperCase() + match[2].slice(1);
  }
  return errors;
}
