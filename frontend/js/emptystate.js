// What the chat pane shows with no messages, and the notice above the composer.
import { icon } from "./icons.js";
import { copyText, el, flashCopied } from "./util.js";

const SUGGESTIONS = [
  "Explain the difference between a process and a thread",
  "Write a Python function that deduplicates a list, keeping order",
  "Summarise the main ideas of stoicism in five bullet points",
  "Draft a polite email asking to move a meeting to Friday",
];

function command(text) {
  return el("code", { class: "cmd", text });
}

function retryButton(onRetry, label = "Try again") {
  return el(
    "button",
    { type: "button", class: "btn btn-secondary", "data-testid": "retry", onclick: onRetry },
    label,
  );
}

/** A shell command with a Copy button (the first-run steps). */
function commandRow(text, testid) {
  const copy = el(
    "button",
    {
      type: "button",
      class: "copy-cmd",
      "data-testid": `${testid}-copy`,
      "aria-label": `Copy: ${text}`,
      title: "Copy",
    },
    icon("copy"),
    el("span", { class: "label", text: "Copy" }),
  );
  copy.addEventListener("click", async () => {
    if (await copyText(text)) flashCopied(copy);
  });
  return el(
    "div",
    { class: "cmd-row" },
    // Focusable: a command wider than a phone scrolls, and the keyboard must reach it.
    el("code", { class: "cmd-line", "data-testid": testid, tabindex: "0", text }),
    copy,
  );
}

function step(n, title, note, ...body) {
  return el(
    "li",
    { class: "setup-step" },
    el("span", { class: "step-n", "aria-hidden": "true", text: String(n) }),
    el(
      "div",
      { class: "step-body" },
      el("p", { class: "step-title" }, el("strong", { text: title }), note ? ` — ${note}` : ""),
      ...body,
    ),
  );
}

/** For people without Ollama yet: install, start, pull: text and copy buttons, nothing remote. */
function setupSteps() {
  const download = el("a", {
    href: "https://ollama.com/download",
    target: "_blank",
    rel: "noopener noreferrer",
    text: "ollama.com/download",
  });
  const install = [
    el("p", { class: "step-text" }, "macOS and Windows: download the app from ", download, "."),
    el(
      "div",
      { class: "os-row" },
      el("span", { class: "step-text", text: "Linux:" }),
      commandRow("curl -fsSL https://ollama.com/install.sh | sh", "install-linux"),
    ),
  ];
  return el(
    "details",
    { class: "setup", "data-testid": "ollama-setup", open: true },
    el("summary", {}, "New to Ollama? Set it up in three steps"),
    el(
      "ol",
      { class: "setup-steps" },
      step(1, "Install Ollama", null, ...install),
      step(
        2,
        "Start it",
        "the desktop app does this by itself",
        commandRow("ollama serve", "cmd-serve"),
      ),
      step(3, "Download a model", "about 2 GB", commandRow("ollama pull llama3.2", "cmd-pull")),
    ),
  );
}

/** Ollama not reachable: say where we looked, how to start it, and how to install it. */
function downCard(s) {
  return el(
    "div",
    { class: "empty-card warn", "data-testid": "ollama-down" },
    el("div", { class: "empty-icon" }, icon("plug")),
    el("h2", { text: "Ollama isn't running" }),
    el(
      "p",
      {},
      "Couldn't reach Ollama at ",
      el("strong", { text: s.endpoint || "its address" }),
      ".",
    ),
    el(
      "p",
      {},
      "Start it with ",
      command("ollama serve"),
      " and this window will connect by itself.",
    ),
    el(
      "div",
      { class: "empty-actions" },
      retryButton(s.onRetry),
      el(
        "button",
        {
          type: "button",
          class: "btn btn-secondary",
          "data-testid": "change-address",
          onclick: s.onSettings,
        },
        "Change address…",
      ),
    ),
    setupSteps(),
    s.otherServer(),
  );
}

function noModelsCard(s) {
  return el(
    "div",
    { class: "empty-card", "data-testid": "no-models" },
    el("div", { class: "empty-icon" }, icon("cube")),
    el("h2", { text: "No models yet" }),
    el(
      "p",
      {},
      "Ollama is running but has no models. Llama 3.2 (3B, about 2 GB) is a good first one.",
    ),
    el(
      "div",
      { class: "empty-actions" },
      el(
        "button",
        {
          type: "button",
          class: "btn btn-primary",
          "data-testid": "pull-default",
          onclick: s.onPullDefault,
        },
        icon("download"),
        "Pull llama3.2",
      ),
      el(
        "button",
        {
          type: "button",
          class: "btn btn-secondary",
          "data-testid": "browse-models",
          onclick: s.onModels,
        },
        "Other models…",
      ),
    ),
    el("p", { class: "empty-hint" }, "Or from a terminal: ", command("ollama pull llama3.2")),
    s.otherServer(),
  );
}

function welcomeCard(firstTime, onSuggestion) {
  const chips = SUGGESTIONS.map((text) =>
    el(
      "button",
      {
        type: "button",
        class: "suggestion",
        "data-testid": "suggestion",
        onclick: () => onSuggestion(text),
      },
      text,
    ),
  );
  return el(
    "div",
    { class: "empty-card welcome", "data-testid": "welcome" },
    el("div", { class: "empty-icon accent" }, icon("spark")),
    el("h2", { text: firstTime ? "Welcome to CloudToLocalLLM" : "What's on your mind?" }),
    el("p", {
      text: firstTime
        ? "Chat with the models running on this computer. Nothing leaves your machine."
        : "Ask anything — your local model is ready.",
    }),
    el("div", { class: "suggestions" }, ...chips),
  );
}

function messageCard(testid, title, text, onRetry) {
  return el(
    "div",
    { class: "empty-card warn", "data-testid": testid },
    el("div", { class: "empty-icon" }, icon("alert")),
    el("h2", { text: title }),
    el("p", { text }),
    onRetry ? retryButton(onRetry) : null,
  );
}

function cardFor(s) {
  switch (s.availability) {
    case "down":
      return downCard(s);
    case "empty":
      return noModelsCard(s);
    case "ready":
      return welcomeCard(s.firstTime, s.onSuggestion);
    case "unauthorized":
      return messageCard(
        "unauthorized",
        "This address is missing its key",
        "Open the chat from the CloudToLocalLLM window or its tray icon: each launch uses a new private link.",
      );
    case "error":
      return messageCard(
        "models-error",
        "Couldn't list the models",
        s.errorMessage || "The app's backend did not answer.",
        s.onRetry,
      );
    default:
      return null; // still loading: show nothing rather than flash a wrong state
  }
}

/**
 * @param {{availability: string, endpoint: string, hasMessages: boolean, firstTime: boolean,
 *          errorMessage: string, onRetry: Function, onSuggestion: Function,
 *          onSettings: Function, onModels: Function, onPullDefault: Function,
 *          otherServer: () => Element}} s  `otherServer`: "I use LM Studio…" (first run)
 */
export function renderEmptyState(s) {
  const host = document.getElementById("empty-state");
  const key = [s.availability, s.endpoint, s.firstTime, s.errorMessage].join("|");
  host.hidden = s.hasMessages || s.availability === "loading";
  // Rebuild only when the content changes: keeps keyboard focus on a suggestion or button.
  if (!host.hidden && host.dataset.key !== key) {
    host.replaceChildren(cardFor(s) || "");
    host.dataset.key = key;
  }
  renderNotice(document.getElementById("notice"), s);
}

function renderNotice(notice, s) {
  const show = s.hasMessages && (s.availability === "down" || s.availability === "empty");
  if (!show && s.missingModel) {
    modelGoneNotice(notice, s);
    return;
  }
  notice.hidden = !show;
  if (!show) return;
  const text =
    s.availability === "down"
      ? [
          `Ollama isn't running at ${s.endpoint || "its address"} — start it with `,
          command("ollama serve"),
        ]
      : ["No models yet — ", command("ollama pull llama3.2")];
  notice.replaceChildren(icon("alert"), el("span", {}, ...text));
  notice.dataset.kind = s.availability;
}

// The conversation's model is gone: said where the user looks before sending, with a way to
// pick another (nothing is sent to another model until they do).
function modelGoneNotice(notice, s) {
  notice.hidden = false;
  if (notice.dataset.kind === "model-gone" && notice.dataset.model === s.missingModel) return;
  const choose = el(
    "button",
    { type: "button", class: "note-btn", "data-testid": "notice-choose-model" },
    "Choose a model",
  );
  choose.addEventListener("click", () => s.onChooseModel(choose));
  notice.replaceChildren(
    icon("alert"),
    el("span", { text: `This chat's model, ${s.missingModel}, is no longer available.` }),
    choose,
  );
  notice.dataset.kind = "model-gone";
  notice.dataset.model = s.missingModel;
}
