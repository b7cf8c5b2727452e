// Settings, Model servers: the endpoints with their state, a form to add one (from a preset
// found running on this computer, or by hand) or edit one, Connect (check it now) and Remove.
// An API key is typed into a password box and never shown back: the list says "key saved".
import { endpointPresets } from "./presets.js";
import { el } from "./util.js";
import { toastError } from "./toast.js";

const STATES = {
  connected: "Connected",
  connecting: "Connecting…",
  reconnecting: "Not reachable — retrying",
  disconnected: "Not reachable",
  error: "Answered with an error",
};

function input(id, testid, attrs = {}) {
  return el("input", {
    id,
    class: "field-input",
    "data-testid": testid,
    autocomplete: "off",
    spellcheck: "false",
    ...attrs,
  });
}

/** A form field: its label, its control and an optional hint below (the first-run form's
 *  too). */
export function labelled(text, control, hint = null) {
  return el(
    "div",
    { class: "field" },
    el("label", { class: "field-label", for: control.id, text }),
    control,
    hint,
  );
}

function endpointForm(f) {
  f.preset = el("select", {
    id: "endpoint-preset",
    class: "field-input",
    "data-testid": "endpoint-preset",
  });
  // The ports are probed once per page; this looks again (a server started since).
  f.rescan = el(
    "button",
    { type: "button", class: "btn btn-quiet", "data-testid": "endpoint-rescan" },
    "Look again",
  );
  f.name = input("endpoint-name", "endpoint-name", { type: "text", placeholder: "LM Studio" });
  f.kind = el(
    "select",
    { id: "endpoint-kind", class: "field-input", "data-testid": "endpoint-kind" },
    el("option", { value: "openai", text: "OpenAI-compatible" }),
    el("option", { value: "ollama", text: "Ollama" }),
  );
  f.url = input("endpoint-url", "endpoint-url", {
    type: "text",
    placeholder: "http://127.0.0.1:1234/v1",
    "aria-describedby": "endpoint-error",
  });
  f.key = input("endpoint-key", "endpoint-key", { type: "password", autocomplete: "new-password" });
  f.keyHint = el("p", { class: "field-hint", id: "endpoint-key-hint" });
  f.key.setAttribute("aria-describedby", "endpoint-key-hint");
  f.error = el("p", {
    class: "field-error",
    id: "endpoint-error",
    role: "alert",
    "data-testid": "endpoint-error",
    hidden: true,
  });
  f.submit = el("button", { type: "submit", class: "btn", "data-testid": "endpoint-save" }, "Add");
  f.cancel = el(
    "button",
    { type: "button", class: "btn btn-quiet", "data-testid": "endpoint-cancel", hidden: true },
    "Cancel",
  );
  f.title = el("h4", {
    class: "endpoint-form-title",
    id: "endpoint-form-title",
    text: "Add a server",
  });
  f.form = el(
    "form",
    { class: "endpoint-form", "data-testid": "endpoint-form", "aria-labelledby": f.title.id },
    f.title,
    el(
      "div",
      { class: "field" },
      el("label", { class: "field-label", for: f.preset.id, text: "Start from" }),
      el("div", { class: "field-row" }, f.preset, f.rescan),
    ),
    labelled("Name", f.name),
    labelled("Kind", f.kind),
    labelled("Address", f.url, f.error),
    labelled("API key (if the server asks for one)", f.key, f.keyHint),
    el("div", { class: "button-row" }, f.submit, f.cancel),
  );
}

export class EndpointsSection {
  /** @param {{api, onChanged: () => void}} o  `onChanged`: an endpoint was added or changed */
  constructor({ api, onChanged }) {
    Object.assign(this, { api, onChanged });
    this.f = {};
    this.editing = null; // the endpoint being edited; null: the form adds one
    this.presets = [];
    endpointForm(this.f);
    this.list = el("ul", { class: "endpoint-list", "data-testid": "endpoint-list" });
    this.root = el(
      "section",
      { class: "settings-section", "data-testid": "settings-endpoints" },
      el("h3", { text: "Model servers" }),
      el("p", {
        class: "field-hint",
        text: "Ollama, LM Studio, llama.cpp, vLLM, Jan or any OpenAI-compatible server.",
      }),
      this.list,
      this.f.form,
    );
    this.bind();
  }

  bind() {
    const f = this.f;
    f.form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.save();
    });
    f.cancel.addEventListener("click", () => this.startAdding());
    f.preset.addEventListener("change", () => this.usePreset(f.preset.value));
    f.rescan.addEventListener("click", () => this.lookAgain());
    f.url.addEventListener("input", () => this.showError(""));
  }

  /** Read the endpoints afresh, the presets once per page (the dialog opened, or one
   *  changed). */
  async refresh() {
    try {
      const [{ endpoints }, presets] = await Promise.all([
        this.api.endpoints(),
        endpointPresets(this.api),
      ]);
      this.renderPresets(presets);
      this.keepingFocus(() => this.list.replaceChildren(...endpoints.map((e) => this.row(e))));
    } catch (err) {
      toastError("Couldn't read the model servers", err);
    }
  }

  /** Probe the usual ports again ("Look again"). */
  async lookAgain() {
    const button = this.f.rescan;
    if (button.getAttribute("aria-busy") === "true") return;
    // Busy rather than disabled: a disabled button would drop the keyboard focus.
    button.setAttribute("aria-busy", "true");
    button.textContent = "Looking…";
    try {
      this.renderPresets(await endpointPresets(this.api, { fresh: true }));
    } catch (err) {
      toastError("Couldn't look for servers", err);
    } finally {
      button.removeAttribute("aria-busy");
      button.textContent = "Look again";
    }
  }

  renderPresets(presets) {
    if (presets === this.presets) return; // the same answer: the options stand
    this.presets = presets;
    const chosen = this.f.preset.value;
    const options = this.presets.map((p, i) =>
      el("option", {
        value: String(i),
        text: p.running ? `${p.name} (running here)` : p.name,
      }),
    );
    this.f.preset.replaceChildren(el("option", { value: "", text: "Another server" }), ...options);
    this.f.preset.value = chosen;
  }

  row(endpoint) {
    const s = endpoint.status || {};
    const n = s.model_count;
    const models = typeof n === "number" ? ` · ${n} model${n === 1 ? "" : "s"}` : "";
    const detail = s.state !== "connected" && s.error ? ` (${s.error})` : "";
    const fixed = endpoint.id === "ollama";
    return el(
      "li",
      { class: "endpoint-row", "data-testid": "endpoint-row", "data-id": endpoint.id },
      el("strong", { class: "endpoint-name", text: endpoint.name }),
      el("span", { class: "field-hint endpoint-url", text: endpoint.base_url }),
      el(
        "p",
        { class: "connection-line", "data-state": s.state || "", "data-testid": "endpoint-state" },
        el("span", { class: "dot", "aria-hidden": "true" }),
        el("span", {
          text: `${STATES[s.state] || s.state || "Unknown"}${models}${detail}${
            endpoint.has_key ? " · key saved" : ""
          }`,
        }),
      ),
      el(
        "div",
        { class: "button-row" },
        this.rowButton("endpoint-connect", "Connect", endpoint, () => this.connect(endpoint)),
        fixed ? null : this.rowButton("endpoint-edit", "Edit", endpoint, () => this.edit(endpoint)),
        fixed
          ? null
          : this.rowButton("endpoint-remove", "Remove", endpoint, () => this.remove(endpoint)),
      ),
    );
  }

  rowButton(testid, text, endpoint, onclick) {
    return el(
      "button",
      {
        type: "button",
        class: "btn btn-quiet",
        "data-testid": testid,
        "aria-label": `${text} ${endpoint.name}`,
        onclick,
      },
      text,
    );
  }

  /** Redraw rows; a button that had the keyboard focus hands it to its new self. */
  keepingFocus(redraw) {
    const focused = document.activeElement;
    const row = this.list.contains(focused) && focused.closest("[data-id]");
    redraw();
    if (!row) return;
    const rowAgain = `[data-id="${CSS.escape(row.dataset.id)}"]`;
    const target = this.list.querySelector(`${rowAgain} [data-testid="${focused.dataset.testid}"]`);
    if (target) target.focus();
  }

  usePreset(index) {
    const preset = this.presets[Number(index)];
    if (!preset) return;
    this.f.name.value = preset.name;
    this.f.kind.value = preset.kind;
    this.f.url.value = preset.base_url;
    this.f.keyHint.textContent = preset.needs_key ? "This server asks for a key." : "";
    this.showError("");
  }

  edit(endpoint) {
    const f = this.f;
    this.editing = endpoint;
    f.preset.value = "";
    f.name.value = endpoint.name;
    f.kind.value = endpoint.kind;
    f.url.value = endpoint.base_url;
    f.key.value = "";
    f.keyHint.textContent = endpoint.has_key
      ? "Key saved. Type a new one to replace it; leave it empty to keep it."
      : "";
    f.submit.textContent = "Save";
    f.title.textContent = `Edit ${endpoint.name}`;
    f.cancel.hidden = false;
    this.showError("");
    f.name.focus();
  }

  startAdding() {
    const f = this.f;
    this.editing = null;
    f.form.reset();
    f.keyHint.textContent = "";
    f.submit.textContent = "Add";
    f.title.textContent = "Add a server";
    f.cancel.hidden = true;
    this.showError("");
  }

  async save() {
    const f = this.f;
    const fields = { name: f.name.value.trim(), kind: f.kind.value, base_url: f.url.value.trim() };
    if (f.key.value) fields.api_key = f.key.value;
    try {
      if (this.editing) await this.api.updateEndpoint(this.editing.id, fields);
      else await this.api.addEndpoint(fields);
    } catch (err) {
      this.showError(err.message);
      f.url.focus();
      return;
    }
    this.startAdding();
    await this.refresh();
    this.onChanged();
  }

  async connect(endpoint) {
    try {
      const fresh = await this.api.connectEndpoint(endpoint.id);
      const old = this.list.querySelector(`[data-id="${CSS.escape(endpoint.id)}"]`);
      if (old) this.keepingFocus(() => old.replaceWith(this.row(fresh)));
      this.onChanged();
    } catch (err) {
      toastError(`Couldn't check ${endpoint.name}`, err);
    }
  }

  async remove(endpoint) {
    try {
      await this.api.deleteEndpoint(endpoint.id);
    } catch (err) {
      toastError(`Couldn't remove ${endpoint.name}`, err);
      return;
    }
    if (this.editing && this.editing.id === endpoint.id) this.startAdding();
    await this.refresh();
    this.onChanged();
  }

  showError(text) {
    const f = this.f;
    f.error.textContent = text;
    f.error.hidden = !text;
    if (text) f.url.setAttribute("aria-invalid", "true");
    else f.url.removeAttribute("aria-invalid");
  }
}
