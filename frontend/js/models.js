// The model picker and what the app knows about Ollama's availability.
import { ApiError } from "./api.js";
import { humanBytes, modelLabel } from "./format.js";
import { load, save } from "./localstore.js";
import { el } from "./util.js";

/**
 * availability: "loading" | "ready" | "empty" (no models pulled) | "down" (Ollama unreachable)
 * | "unauthorized" (the page was opened without the app's token) | "error"
 */
export class Models {
  constructor({ api, onChange, onPick }) {
    this.api = api;
    this.onChange = onChange;
    this.onPick = onPick;
    this.select = document.getElementById("model-select");
    this.availability = "loading";
    this.models = [];
    this.errorMessage = "";
    this.refreshing = null;
    this.queued = null;
    this.select.addEventListener("change", () => {
      save("model", this.select.value);
      this.onPick(this.select.value);
    });
  }

  /**
   * Fetch the model list. A call while a fetch runs gets one more fetch after it (that one
   * may have started before the change the caller knows about); further calls share it.
   */
  refresh() {
    if (this.refreshing) {
      this.queued ||= this.refreshing.then(() => {
        this.queued = null;
        return this.refresh();
      });
      return this.queued;
    }
    this.refreshing = this.fetch().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  async fetch() {
    try {
      const body = await this.api.models();
      this.models = (body && body.models) || [];
      this.availability = this.models.length ? "ready" : "empty";
    } catch (err) {
      this.models = [];
      const down =
        err instanceof ApiError && (err.code === "ollama_unavailable" || err.status === 503);
      this.availability = down ? "down" : err.status === 401 ? "unauthorized" : "error";
      this.errorMessage = err.message;
    }
    this.fill();
    this.onChange(this.availability);
  }

  /** Ollama went away (a status frame said so): forget the list until it is back. */
  markDown() {
    if (this.availability === "down") return;
    this.availability = "down";
    this.select.disabled = true;
    this.onChange(this.availability);
  }

  fill() {
    const wanted = this.select.value || load("model", "");
    const options = this.models.map((m) =>
      el("option", { value: m.name, text: modelLabel(m), title: describe(m) }),
    );
    if (!options.length) options.push(el("option", { value: "", text: "No models" }));
    this.select.replaceChildren(...options);
    this.select.disabled = this.availability !== "ready";
    if (this.has(wanted)) this.select.value = wanted;
  }

  has(name) {
    return Boolean(name) && this.models.some((m) => m.name === name);
  }

  /** The model to send with; "" when none is available. */
  current() {
    return this.availability === "ready" || this.availability === "loading"
      ? this.select.value
      : "";
  }

  /** Show a conversation's model when it is installed (else keep the user's pick). */
  show(name) {
    if (this.has(name)) this.select.value = name;
  }
}

function describe(model) {
  const bits = [];
  const details = model.details || {};
  if (details.parameter_size) bits.push(details.parameter_size);
  if (details.quantization_level) bits.push(details.quantization_level);
  if (typeof model.size === "number") bits.push(humanBytes(model.size));
  return bits.join(" · ");
}
