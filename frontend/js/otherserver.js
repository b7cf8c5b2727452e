// The first-run screen's "I use LM Studio, llama.cpp or another server": pick one, its
// address is filled from the preset (ports 1234 / 8080) or typed, a key if it wants one;
// Connect adds it as an endpoint and checks it at once. Reachable: the app moves to a chat
// with its models (`onAdded`); not: it is removed again and the reason shown here.
import { labelled } from "./endpoints.js";
import { endpointPresets } from "./presets.js";
import { el } from "./util.js";

const CHOICES = [
  {
    id: "lmstudio",
    preset: "LM Studio",
    hint: "In LM Studio, start the local server (Developer tab); it listens on port 1234.",
  },
  {
    id: "llamacpp",
    preset: "llama.cpp",
    hint: "Start it with llama-server -m MODEL.gguf; it listens on port 8080.",
  },
  {
    id: "other",
    preset: null,
    label: "Another server",
    hint: "Any OpenAI-compatible server, e.g. vLLM (port 8000) or Jan (1337, with a key).",
  },
];

/** @param {{api, onAdded: (endpoint: object) => void}} o */
export function otherServerSetup({ api, onAdded }) {
  const f = fields();
  const buttons = CHOICES.map((choice) =>
    el(
      "button",
      {
        type: "button",
        class: "btn btn-secondary",
        "aria-pressed": "false",
        "data-testid": `other-server-${choice.id}`,
        onclick: () => choose(api, f, buttons, choice),
      },
      choice.label || choice.preset,
    ),
  );
  f.form.addEventListener("submit", (e) => {
    e.preventDefault();
    connect(api, f, onAdded);
  });
  return el(
    "details",
    { class: "setup other-server", "data-testid": "other-server" },
    el("summary", {}, "I use LM Studio, llama.cpp or another server"),
    el(
      "div",
      { class: "other-server-body" },
      el("div", { class: "choice-row", role: "group", "aria-label": "Your server" }, ...buttons),
      f.form,
    ),
  );
}

function fields() {
  const f = {};
  f.url = el("input", {
    id: "other-server-url",
    class: "field-input",
    type: "text",
    "data-testid": "other-server-url",
    placeholder: "http://127.0.0.1:8000/v1",
    autocomplete: "off",
    spellcheck: "false",
    "aria-describedby": "other-server-hint other-server-error",
  });
  f.key = el("input", {
    id: "other-server-key",
    class: "field-input",
    type: "password",
    "data-testid": "other-server-key",
    autocomplete: "new-password",
  });
  f.hint = el("p", { class: "field-hint", id: "other-server-hint" });
  f.error = el("p", {
    class: "field-error",
    id: "other-server-error",
    role: "alert",
    "data-testid": "other-server-error",
    hidden: true,
  });
  f.submit = el(
    "button",
    { type: "submit", class: "btn btn-primary", "data-testid": "other-server-connect" },
    "Connect",
  );
  f.form = el(
    "form",
    { class: "other-server-form", "data-testid": "other-server-form", hidden: true },
    labelled("Address", f.url, f.hint),
    labelled("API key (if it asks for one)", f.key),
    f.error,
    el("div", { class: "button-row" }, f.submit),
  );
  return f;
}

async function choose(api, f, buttons, choice) {
  buttons.forEach((b, i) => b.setAttribute("aria-pressed", String(CHOICES[i] === choice)));
  f.choice = choice;
  f.form.hidden = false;
  f.hint.textContent = choice.hint;
  showError(f, "");
  f.url.value = "";
  f.url.focus();
  if (!choice.preset) return;
  const presets = await endpointPresets(api).catch(() => []);
  const preset = presets.find((p) => p.name === choice.preset);
  if (!preset || f.choice !== choice) return; // another choice was made meanwhile
  f.url.value = preset.base_url;
  if (preset.running) f.hint.textContent = `${choice.hint} It is running here now.`;
}

/** The endpoint's name: the preset's, else the address's host and port. */
function nameFor(choice, url) {
  if (choice.preset) return choice.preset;
  try {
    return new URL(url).host;
  } catch {
    return "Model server"; // the server refuses the address with its own words
  }
}

async function connect(api, f, onAdded) {
  const url = f.url.value.trim();
  const fields = { name: nameFor(f.choice, url), kind: "openai", base_url: url };
  if (f.key.value) fields.api_key = f.key.value;
  f.submit.disabled = true;
  showError(f, "");
  try {
    const added = await api.addEndpoint(fields);
    const fresh = await api.connectEndpoint(added.id).catch((err) => ({
      status: { state: "error", error: err.message },
    }));
    const s = fresh.status || {};
    if (s.state === "connected" && s.model_count !== 0) {
      onAdded(fresh);
      return;
    }
    await api.deleteEndpoint(added.id).catch(() => {}); // not kept: nothing to chat with
    showError(f, failure(fields.name, url, s));
  } catch (err) {
    showError(f, err.message); // refused before adding: a bad address
  } finally {
    f.submit.disabled = false;
  }
}

function failure(name, url, s) {
  if (s.state === "connected") {
    return `${name} answers at ${url} but lists no models: load one in it first.`;
  }
  const why = s.error ? ` (${s.error})` : "";
  return `Couldn't reach ${name} at ${url}${why}. Is its server running?`;
}

function showError(f, text) {
  f.error.textContent = text;
  f.error.hidden = !text;
  if (text) f.url.setAttribute("aria-invalid", "true");
  else f.url.removeAttribute("aria-invalid");
}
