// The Models dialog: what is installed in Ollama, pulling new models with live progress,
// and deleting (after a confirmation that names the model).
import { confirmDialog, Dialog } from "./dialog.js";
import { humanBytes, shortDate } from "./format.js";
import { icon } from "./icons.js";
import { fillCard, pullCard } from "./pullcard.js";
import { toast, toastError } from "./toast.js";
import { el, fullTime } from "./util.js";

export class ModelsManager {
  /**
   * @param {{api, models, pulls, endpoint: () => string, onDeleted: (name) => Promise}} o
   *   `onDeleted` resolves once the model list is fresh
   */
  constructor({ api, models, pulls, endpoint, onDeleted }) {
    Object.assign(this, { api, models, pulls, endpoint, onDeleted });
    this.dialog = new Dialog({
      title: "Models",
      testid: "models-manager",
      className: "panel-wide",
    });
    this.summary = el("p", { class: "panel-sub", "data-testid": "models-summary" });
    this.nameInput = el("input", {
      id: "pull-name",
      type: "text",
      class: "field-input",
      "data-testid": "pull-name",
      placeholder: "e.g. llama3.2 or qwen3:8b",
      autocomplete: "off",
      spellcheck: "false",
      "aria-describedby": "pull-hint",
    });
    this.pullList = el("ul", {
      class: "pull-list",
      "data-testid": "pull-list",
      "aria-label": "Downloads",
    });
    this.installed = el("div", { class: "installed", "data-testid": "models-installed" });
    this.cards = new Map(); // request_id -> card parts
    this.dialog.body.append(this.summary, this.pullForm(), this.pullList, this.installed);
  }

  pullForm() {
    const form = el(
      "form",
      { class: "pull-form", "data-testid": "pull-form" },
      el("label", { class: "field-label", for: "pull-name", text: "Pull a model" }),
      el(
        "div",
        { class: "field-row" },
        this.nameInput,
        el(
          "button",
          { type: "submit", class: "btn btn-primary", "data-testid": "pull-submit" },
          icon("download"),
          "Pull",
        ),
      ),
      el("p", {
        class: "field-hint",
        id: "pull-hint",
        text: "Any name from the Ollama library (ollama.com/library) or a hf.co/… GGUF. A stopped download resumes where it left off.",
      }),
    );
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      if (this.startPull(this.nameInput.value)) this.nameInput.value = "";
    });
    return form;
  }

  /** Open the dialog (focus on the name box when `focusPull`). */
  open({ focusPull = false } = {}) {
    this.render();
    this.dialog.open(focusPull ? this.nameInput : null);
  }

  /** Start a pull and show it; false when it could not start. */
  startPull(name) {
    if (!name.trim()) {
      this.nameInput.focus();
      return false;
    }
    const { error } = this.pulls.start(name);
    if (error) toast(error);
    return !error;
  }

  /** The model list changed (or Ollama came or went). */
  render() {
    const ms = this.models.ollamaModels();
    const where = this.endpoint() || "its address";
    if (this.models.availability === "down") {
      this.summary.textContent = `Ollama isn't reachable at ${where}.`;
    } else {
      const total = ms.reduce((sum, m) => sum + (m.size || 0), 0);
      const count = `${ms.length} model${ms.length === 1 ? "" : "s"}`;
      this.summary.textContent = `Ollama at ${where} · ${count} · ${humanBytes(total)}`;
    }
    this.renderInstalled(ms);
    for (const pull of this.pulls.all()) this.renderPull(pull);
  }

  renderInstalled(ms) {
    const focused = document.activeElement && document.activeElement.dataset.modelName;
    if (!ms.length) {
      const down = this.models.availability === "down";
      this.installed.replaceChildren(
        el("p", {
          class: "panel-empty",
          "data-testid": "models-none",
          text: down
            ? "Start Ollama (ollama serve) to see and manage its models."
            : "No models installed yet. Pull one above — llama3.2 is a good first choice (2.0 GB).",
        }),
      );
      return;
    }
    const rows = ms.map((m) => this.row(m));
    const head = el(
      "tr",
      {},
      ...["Model", "Parameters", "Quantisation", "Size", "Modified"].map((t) =>
        el("th", { scope: "col", text: t }),
      ),
      el("th", { scope: "col" }, el("span", { class: "visually-hidden", text: "Actions" })),
    );
    this.installed.replaceChildren(
      el(
        "table",
        { class: "model-table", "data-testid": "model-table" },
        el("thead", {}, head),
        el("tbody", {}, ...rows),
      ),
    );
    const again =
      focused && this.installed.querySelector(`[data-model-name="${CSS.escape(focused)}"]`);
    if (again) again.focus();
  }

  row(m) {
    const d = m.details || {};
    const del = el(
      "button",
      {
        type: "button",
        class: "icon-btn model-delete",
        "data-testid": "model-delete",
        "data-model-name": m.name,
        "aria-label": `Delete ${m.name}`,
        title: `Delete ${m.name}`,
      },
      icon("trash"),
    );
    del.addEventListener("click", () => this.confirmDelete(m));
    return el(
      "tr",
      { "data-testid": "model-row", "data-name": m.name },
      el(
        "th",
        { scope: "row", class: "model-name" },
        el("span", { class: "model-title", text: m.name }),
        d.family ? el("span", { class: "model-family", text: d.family }) : null,
      ),
      el("td", { "data-testid": "model-params", text: d.parameter_size || "—" }),
      el("td", { "data-testid": "model-quant", text: d.quantization_level || "—" }),
      el("td", { class: "num", "data-testid": "model-size", text: humanBytes(m.size) || "—" }),
      el("td", { title: fullTime(m.modified_at), text: shortDate(m.modified_at) || "—" }),
      el("td", { class: "model-actions" }, del),
    );
  }

  async confirmDelete(m) {
    const ok = await confirmDialog({
      title: `Delete ${m.name}?`,
      message: [
        "This removes ",
        el("strong", { text: m.name }),
        ` (${humanBytes(m.size)}) from Ollama. Conversations that used it stay; you can pull it again later.`,
      ],
      confirmLabel: "Delete model",
      testid: "model-delete-dialog",
    });
    if (!ok) return;
    try {
      await this.api.deleteModel(m.name);
      toast(`Deleted ${m.name}`, { kind: "info" });
    } catch (err) {
      if (err.code !== "model_not_found") {
        toastError(`Couldn't delete ${m.name}`, err);
        return;
      }
    }
    const index = this.models.ollamaModels().findIndex((x) => x.name === m.name);
    await this.onDeleted(m.name);
    // Its row is gone: keep keyboard focus in the list (the next row), else on the name box.
    const buttons = this.installed.querySelectorAll("[data-testid=model-delete]");
    const next = buttons[Math.min(index, buttons.length - 1)];
    if (this.dialog.isOpen) (next || this.nameInput).focus();
  }

  /** A pull started, moved on or ended: update (or add, or remove) its card in place. */
  renderPull(pull) {
    const live = this.pulls.pulls.get(pull.requestId);
    let card = this.cards.get(pull.requestId);
    if (!live) {
      if (card && card.root.contains(document.activeElement)) this.nameInput.focus();
      if (card) card.root.remove();
      this.cards.delete(pull.requestId);
      return;
    }
    if (!card) {
      card = pullCard(pull, {
        cancel: () => this.pulls.cancel(pull.requestId),
        retry: () => this.startPull(pull.name),
        dismiss: () => {
          this.pulls.dismiss(pull.requestId);
          this.nameInput.focus();
        },
      });
      this.cards.set(pull.requestId, card);
      this.pullList.append(card.root);
    }
    fillCard(card, pull);
  }
}
