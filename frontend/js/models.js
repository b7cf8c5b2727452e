// The model picker and what the app knows about Ollama's availability. Models of several
// endpoints (model servers) are grouped under the endpoint's name; an option's value is the
// model's name and its `data-endpoint` the endpoint's id (two servers may share a name).
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
    this.endpointNames = new Map(); // endpoint id -> its name, for the picker's group labels
    this.errorMessage = "";
    this.refreshing = null;
    this.queued = null;
    // What the open conversation asks for ({model, endpoint, strict}); with `strict` (a
    // conversation, not a new chat) a model that is gone is shown as gone, never swapped.
    this.wanted = null;
    this.missing = null; // the conversation's model when it is gone, else null
    this.select.addEventListener("change", () => this.pick(this.current(), this.currentEndpoint()));
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
    const names = this.api.endpoints().then(
      (body) => new Map(body.endpoints.map((e) => [e.id, e.name])),
      () => this.endpointNames, // the groups keep their last names; the ids stand in for new ones
    );
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
    this.endpointNames = await names;
    this.fill();
    this.onChange(this.availability);
  }

  /** The user chose a model (in the picker or a menu): it is the chat's model from now on. */
  pick(model, endpointId) {
    save("model", model);
    save("endpoint", endpointId);
    this.show(model, endpointId, { strict: true });
    this.onPick(model, endpointId);
  }

  /** A new chat became a conversation: its model is now held like a conversation's. */
  hold() {
    const picked = this.picked();
    if (picked) this.wanted = { ...picked, strict: true };
  }

  /** Ollama went away (a status frame said so): forget its models until it is back. The
   *  other servers' models stay: with one of them up, the app is not down. */
  markDown() {
    const others = this.models.filter((m) => (m.endpoint_id || "ollama") !== "ollama");
    if (others.length) {
      if (others.length === this.models.length) return;
      this.models = others;
      this.fill();
      this.onChange(this.availability);
      return;
    }
    if (this.availability === "down") return;
    this.availability = "down";
    this.select.disabled = true;
    this.onChange(this.availability);
  }

  fill() {
    const saved = { endpoint: load("endpoint", "ollama"), model: load("model", "") };
    const wanted = this.wanted || this.picked() || saved;
    const groups = new Map();
    for (const m of this.models) {
      const id = m.endpoint_id || "ollama";
      if (!groups.has(id)) groups.set(id, []);
      groups.get(id).push(
        el("option", {
          value: m.name,
          text: modelLabel(m),
          title: describe(m),
          "data-endpoint": id,
        }),
      );
    }
    let options = [...groups.values()].flat();
    if (groups.size > 1) {
      options = [...groups].map(([id, opts]) =>
        el("optgroup", { label: this.endpointNames.get(id) || id }, ...opts),
      );
    }
    if (!options.length) options.push(el("option", { value: "", text: "No models" }));
    this.select.replaceChildren(...options);
    this.select.disabled = this.availability !== "ready";
    this.show(wanted.model, wanted.endpoint, { strict: Boolean(wanted.strict) });
  }

  /** The chosen option's model and endpoint; null when there is none. */
  picked() {
    const option = this.select.selectedOptions[0];
    if (!option || !option.value) return null;
    return { model: option.value, endpoint: option.dataset.endpoint || "ollama" };
  }

  /** The models of the Ollama endpoint (the Models dialog and the default model are its). */
  ollamaModels() {
    return this.models.filter((m) => (m.endpoint_id || "ollama") === "ollama");
  }

  /** The model to send with; "" when none is available. */
  current() {
    const ok = this.availability === "ready" || this.availability === "loading";
    return ok && this.picked() ? this.picked().model : "";
  }

  /** The endpoint of the chosen model ("ollama" unless a model of another one is picked). */
  currentEndpoint() {
    return this.picked() ? this.picked().endpoint : "ollama";
  }

  /** Pick the first model of an endpoint, as the user's choice for new chats. */
  pickFrom(endpointId) {
    const option = [...this.select.options].find((o) => o.dataset.endpoint === endpointId);
    if (option) this.pick(option.value, endpointId);
  }

  /**
   * Show a conversation's model (`strict`) or a new chat's remembered one. A new chat keeps
   * the picker's model when the remembered one is gone; a conversation whose model is gone
   * shows that (an option that cannot be sent to) until the user picks another.
   */
  show(name, endpointId = "ollama", { strict = false } = {}) {
    const id = endpointId || "ollama";
    this.wanted = { model: name, endpoint: id, strict };
    for (const gone of this.select.querySelectorAll("option[data-missing]")) gone.remove();
    const option = [...this.select.options].find(
      (o) => o.value === name && o.dataset.endpoint === id,
    );
    this.missing = null;
    if (option) option.selected = true;
    else if (!name) this.selectDefault(); // nothing remembered: not the last chat's pick
    else if (strict && this.availability === "ready") {
      this.missing = { model: name, endpoint: id };
      const gone = el("option", {
        value: "",
        text: `${name} — not available`,
        "data-missing": "",
        "data-endpoint": id,
        disabled: true,
      });
      this.select.prepend(gone);
      gone.selected = true;
    }
    this.select.dataset.missing = this.missing ? "true" : "false";
  }

  /** The first of Ollama's models, else the first there is. */
  selectDefault() {
    const options = [...this.select.options].filter((o) => o.value);
    const first = options.find((o) => (o.dataset.endpoint || "ollama") === "ollama") || options[0];
    if (first) first.selected = true;
  }

  /** "llama3.2", or "llama3.2 · LM Studio" when there are several endpoints. */
  writerLabel(model, endpointId) {
    if (!model) return "";
    if (this.endpointNames.size < 2) return model;
    const id = endpointId || "ollama";
    return `${model} · ${this.endpointNames.get(id) || id}`;
  }

  /**
   * Menu items (menu.js) for every available model, grouped by endpoint when there are
   * several; `current` ({model, endpoint}) is marked. `onPick` gets {model, endpoint}.
   */
  menuItems(current, onPick) {
    const several = new Set(this.models.map((m) => m.endpoint_id || "ollama")).size > 1;
    return this.models.map((m) => {
      const endpoint = m.endpoint_id || "ollama";
      const isCurrent = current && current.model === m.name && current.endpoint === endpoint;
      return {
        label: m.name,
        note: isCurrent ? "current" : null,
        group: several ? this.endpointNames.get(endpoint) || endpoint : null,
        testid: "model-menu-item",
        onSelect: () => onPick({ model: m.name, endpoint }),
      };
    });
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
