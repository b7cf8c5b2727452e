// The Settings dialog's controls, built once; settingsdialog.js fills and wires them.
import { MOD_KEY } from "./format.js";
import { icon } from "./icons.js";
import { el } from "./util.js";

function section(title, ...children) {
  return el("section", { class: "settings-section" }, el("h3", { text: title }), ...children);
}

function field(label, forId, control, hint = null) {
  return el(
    "div",
    { class: "field" },
    el("label", { class: "field-label", for: forId, text: label }),
    control,
    hint,
  );
}

function button(testid, iconName, text, attrs = {}) {
  return el(
    "button",
    { type: "button", class: "btn", "data-testid": testid, ...attrs },
    iconName ? icon(iconName) : null,
    text,
  );
}

function connectionBlock(f) {
  f.url = el("input", {
    id: "settings-url",
    type: "text",
    class: "field-input",
    "data-testid": "settings-ollama-url",
    autocomplete: "off",
    spellcheck: "false",
    placeholder: "http://127.0.0.1:11434",
    "aria-describedby": "settings-url-error settings-url-source",
  });
  f.urlApply = el(
    "button",
    { type: "submit", class: "btn", "data-testid": "settings-url-apply" },
    "Apply",
  );
  f.urlReset = button("settings-url-reset", null, "Forget saved address", {
    class: "btn btn-quiet",
  });
  f.urlError = el("p", {
    class: "field-error",
    id: "settings-url-error",
    role: "alert",
    "data-testid": "settings-url-error",
    hidden: true,
  });
  f.urlSource = el("p", { class: "field-hint", id: "settings-url-source" });
  f.connection = el(
    "p",
    { class: "connection-line", "data-testid": "settings-connection", "aria-live": "polite" },
    el("span", { class: "dot", "aria-hidden": "true" }),
    el("span"),
  );
  f.urlForm = el(
    "form",
    { class: "field", "data-testid": "settings-url-form" },
    el("label", { class: "field-label", for: "settings-url", text: "Ollama address" }),
    el("div", { class: "field-row" }, f.url, f.urlApply),
    f.urlError,
    f.connection,
    el("div", { class: "field-foot" }, f.urlSource, f.urlReset),
  );
  return section("Connection", f.urlForm);
}

function chatBlock(f) {
  f.model = el("select", {
    id: "settings-model",
    class: "field-input",
    "data-testid": "settings-default-model",
  });
  f.sendOnEnter = el("input", {
    type: "checkbox",
    id: "settings-enter",
    class: "switch",
    role: "switch",
    "data-testid": "settings-send-on-enter",
  });
  const enterHint = `Shift+Enter makes a new line. When off, Enter makes a new line and ${MOD_KEY}+Enter sends.`;
  const enter = el(
    "label",
    { class: "check field", for: "settings-enter" },
    f.sendOnEnter,
    el(
      "span",
      {},
      el("span", { class: "check-title", text: "Enter sends the message" }),
      el("span", { class: "field-hint", text: enterHint }),
    ),
  );
  const modelHint = el("p", {
    class: "field-hint",
    text: "For new chats, until you pick another model in the header.",
  });
  return section("Chat", field("Default model", "settings-model", f.model, modelHint), enter);
}

function themeChoice(value, label) {
  const input = el("input", {
    type: "radio",
    name: "theme",
    value,
    id: `theme-${value}`,
    "data-testid": `settings-theme-${value}`,
  });
  const node = el(
    "label",
    { class: "segment", for: `theme-${value}` },
    input,
    el("span", { text: label }),
  );
  return { input, node };
}

function appearanceBlock(f) {
  const choices = [
    themeChoice("light", "Light"),
    themeChoice("dark", "Dark"),
    themeChoice("system", "System"),
  ];
  f.themes = choices.map((c) => c.input);
  const group = el(
    "div",
    { class: "segments", role: "radiogroup", "aria-labelledby": "settings-theme-label" },
    ...choices.map((c) => c.node),
  );
  f.font = el("input", {
    id: "settings-font",
    type: "range",
    min: "12",
    max: "22",
    step: "1",
    class: "range",
    "data-testid": "settings-font-size",
  });
  f.fontValue = el("output", {
    class: "range-value",
    for: "settings-font",
    "data-testid": "settings-font-size-value",
  });
  const slider = el(
    "div",
    { class: "field-row range-row" },
    el("span", { class: "range-a small", "aria-hidden": "true", text: "A" }),
    f.font,
    el("span", { class: "range-a", "aria-hidden": "true", text: "A" }),
    f.fontValue,
  );
  const theme = el(
    "div",
    { class: "field" },
    el("span", { class: "field-label", id: "settings-theme-label", text: "Theme" }),
    group,
  );
  return section("Appearance", theme, field("Chat text size", "settings-font", slider));
}

function dataBlock(f) {
  f.exportJson = button("settings-export-json", "download", "Export all (JSON)");
  f.exportMd = button("settings-export-markdown", "download", "Export all (Markdown)");
  f.importButton = button("settings-import", "upload", "Import…");
  f.importInput = el("input", {
    type: "file",
    accept: ".json,application/json",
    hidden: true,
    "data-testid": "settings-import-file",
    "aria-label": "Export file to import",
  });
  f.importResult = el("p", {
    class: "import-result",
    role: "status",
    "data-testid": "settings-import-result",
    hidden: true,
  });
  const hint = el("p", {
    class: "field-hint",
    text: "A JSON export holds everything, branches included, and can be imported here or on another computer.",
  });
  const buttons = el(
    "div",
    { class: "button-row" },
    f.exportJson,
    f.exportMd,
    f.importButton,
    f.importInput,
  );
  return section("Your conversations", hint, buttons, f.importResult);
}

function aboutBlock(f) {
  // Filled from /api/health: the one version number, from pyproject.toml.
  f.version = el("p", { class: "field-hint", "data-testid": "settings-app-version" });
  return section("About", f.version);
}

/** Build the form; returns `root` and every control by name. */
export function settingsForm() {
  const f = {};
  f.root = el(
    "div",
    { class: "settings" },
    connectionBlock(f),
    chatBlock(f),
    appearanceBlock(f),
    dataBlock(f),
    aboutBlock(f),
  );
  return f;
}
