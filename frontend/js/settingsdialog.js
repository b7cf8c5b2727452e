// The Settings dialog: Ollama address, model servers, default model, Enter to send, theme,
// font size, and exporting or importing every conversation. Each change is saved at once (`PATCH
// /api/settings`); the address is saved when applied, and the backend's error shown beside it.
import { Dialog } from "./dialog.js";
import { EndpointsSection } from "./endpoints.js";
import { modelLabel } from "./format.js";
import { applyPrefs, getPrefs } from "./prefs.js";
import { el } from "./util.js";
import { RemoteAccessSection } from "./remoteaccess.js";
import { settingsForm } from "./settingsform.js";
import { toastError } from "./toast.js";
import { exportAll, importFile } from "./transfer.js";

const SOURCES = {
  default: "Ollama's default address on this computer.",
  saved: "Saved in your settings.",
  launch:
    "Given when the app was started (--ollama-url or OLLAMA_HOST). Applying an address here takes over.",
};

export class SettingsDialog {
  /** @param {{api, models, status: () => object|null, onImported: () => void}} o */
  constructor({ api, models, status, onImported }) {
    Object.assign(this, { api, models, status, onImported });
    this.settings = null;
    this.saves = 0; // PATCHes sent so far
    this.saving = 0; // PATCHes not answered yet
    this.dialog = new Dialog({
      title: "Settings",
      testid: "settings-dialog",
      className: "panel-settings",
    });
    this.f = settingsForm();
    this.remote = new RemoteAccessSection({ api, isOpen: () => this.dialog.isOpen });
    this.endpoints = new EndpointsSection({ api, onChanged: () => models.refresh() });
    this.dialog.body.append(this.f.root, this.endpoints.root, this.remote.root);
    this.bind();
  }

  bind() {
    const f = this.f;
    f.urlForm.addEventListener("submit", (e) => {
      e.preventDefault();
      this.saveUrl(f.url.value);
    });
    f.urlReset.addEventListener("click", () => this.saveUrl(null));
    f.url.addEventListener("input", () => this.showUrlError(""));
    f.model.addEventListener("change", () => this.save({ default_model: f.model.value || null }));
    f.sendOnEnter.addEventListener("change", () =>
      this.save({ send_on_enter: f.sendOnEnter.checked }),
    );
    for (const radio of f.themes) {
      radio.addEventListener("change", () => radio.checked && this.save({ theme: radio.value }));
    }
    f.font.addEventListener("input", () => {
      const size = Number(f.font.value);
      f.fontValue.textContent = `${size} px`;
      applyPrefs({ font_size: size }); // preview while dragging; saved on release
    });
    f.font.addEventListener("change", () => this.save({ font_size: Number(f.font.value) }));
    f.exportJson.addEventListener("click", () => exportAll(this.api, "json"));
    f.exportMd.addEventListener("click", () => exportAll(this.api, "markdown"));
    f.importButton.addEventListener("click", () => f.importInput.click());
    f.importInput.addEventListener("change", () => this.importChosen());
  }

  /** Open, with the settings read afresh; `focusUrl` puts the caret in the address box. */
  async open({ focusUrl = false } = {}) {
    this.f.importResult.hidden = true;
    this.showUrlError("");
    if (this.settings) this.render();
    this.dialog.open(focusUrl ? this.f.url : null);
    this.showVersion();
    this.remote.refresh();
    this.endpoints.refresh();
    const asked = this.saves;
    try {
      const fresh = await this.api.settings();
      // A change saved meanwhile answers with newer settings than this read.
      if (asked === this.saves && !this.saving) this.update(fresh);
    } catch (err) {
      toastError("Couldn't load the settings", err);
    }
  }

  /** The app's name and version in About, asked for once. */
  async showVersion() {
    if (this.f.version.textContent) return;
    try {
      const { version } = await this.api.health();
      this.f.version.textContent = `CloudToLocalLLM ${version}`;
    } catch (err) {
      toastError("Couldn't read the app's version", err);
    }
  }

  /** Another window changed the settings (`settings.changed`). */
  changedElsewhere(settings) {
    // Our own saves answer with the whole, newest settings: their echoes would only flicker.
    if (!this.saving) this.update(settings);
  }

  /** New settings from the backend. */
  update(settings) {
    this.settings = settings;
    applyPrefs(settings);
    if (this.dialog.isOpen) this.render();
  }

  /** PATCH; only the newest save's answer is applied (answers may overtake each other). */
  async patch(fields) {
    const n = ++this.saves;
    this.saving += 1;
    try {
      const saved = await this.api.updateSettings(fields);
      if (n === this.saves) this.update(saved);
      return saved;
    } finally {
      this.saving -= 1;
    }
  }

  render() {
    const s = this.settings;
    const f = this.f;
    const p = getPrefs();
    if (document.activeElement !== f.url) f.url.value = s.ollama_url || "";
    f.urlSource.textContent = SOURCES[s.ollama_url_source] || "";
    f.urlReset.hidden = !s.saved_ollama_url;
    this.renderConnection();
    this.renderModels(s.default_model);
    f.sendOnEnter.checked = p.send_on_enter;
    for (const radio of f.themes) radio.checked = radio.value === p.theme;
    f.font.value = String(p.font_size);
    f.fontValue.textContent = `${p.font_size} px`;
  }

  /** The connection line under the address follows the status pill. */
  renderConnection() {
    if (!this.dialog.isOpen) return;
    const s = this.status();
    const line = this.f.connection;
    if (!s) {
      line.hidden = true;
      return;
    }
    line.hidden = false;
    line.dataset.state = s.state;
    const words = {
      connected: `Connected${s.version ? ` · Ollama ${s.version}` : ""}`,
      connecting: "Connecting…",
      reconnecting: "Not reachable — retrying",
      disconnected: "Not reachable",
      error: "Ollama answered with an error",
    };
    const detail = s.state !== "connected" && s.error ? ` (${s.error})` : "";
    // Name the address only when it is not the one in the box (a change still being applied).
    const shown = this.settings && this.settings.ollama_url;
    const where = s.endpoint && s.endpoint !== shown ? ` — ${s.endpoint}` : "";
    line.lastChild.textContent = `${words[s.state] || s.state}${detail}${where}`;
  }

  /** The installed models changed: the default-model list follows. */
  modelsChanged() {
    if (this.dialog.isOpen && this.settings) this.renderModels(this.settings.default_model);
  }

  renderModels(current) {
    const names = this.models.ollamaModels().map((m) => [m.name, modelLabel(m)]);
    if (current && !names.some(([name]) => name === current)) {
      names.push([current, `${current} (not installed)`]);
    }
    this.f.model.replaceChildren(
      el("option", { value: "", text: "The newest installed model" }),
      ...names.map(([value, text]) => el("option", { value, text })),
    );
    this.f.model.value = current || "";
  }

  async save(fields) {
    applyPrefs(fields); // theme and font size show at once; a refusal puts them back
    try {
      await this.patch(fields);
    } catch (err) {
      toastError("Couldn't save the setting", err);
      if (this.settings) this.update(this.settings);
    }
  }

  async saveUrl(value) {
    this.showUrlError("");
    try {
      const saved = await this.patch({ ollama_url: value });
      this.f.url.value = saved.ollama_url || ""; // normalised: `host` -> `http://host:11434`
    } catch (err) {
      this.showUrlError(err.message);
      this.f.url.focus();
    }
  }

  showUrlError(text) {
    const f = this.f;
    f.urlError.textContent = text;
    f.urlError.hidden = !text;
    if (text) f.url.setAttribute("aria-invalid", "true");
    else f.url.removeAttribute("aria-invalid");
  }

  async importChosen() {
    const f = this.f;
    const file = f.importInput.files && f.importInput.files[0];
    f.importInput.value = ""; // choosing the same file again must fire `change` again
    if (!file) return;
    f.importButton.disabled = true;
    f.importResult.hidden = false;
    f.importResult.dataset.kind = "busy";
    f.importResult.textContent = `Importing ${file.name}…`;
    const result = await importFile(this.api, file);
    f.importButton.disabled = false;
    f.importResult.dataset.kind = result.ok ? "ok" : "error";
    f.importResult.textContent = result.text;
    if (result.ok) this.onImported(result);
  }
}
