// What the chat pane shows with no messages, and the notice above the composer.
import { el, icon } from "./util.js";

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

/** Ollama not reachable: say where we looked and how to start it. */
function downCard(endpoint, onRetry) {
  return el(
    "div",
    { class: "empty-card warn", "data-testid": "ollama-down" },
    el("div", { class: "empty-icon" }, icon("plug")),
    el("h2", { text: "Ollama isn't running" }),
    el(
      "p",
      {},
      "Couldn't reach Ollama at ",
      el("strong", { text: endpoint || "its address" }),
      ".",
    ),
    el(
      "p",
      {},
      "Start it with ",
      command("ollama serve"),
      " and this window will connect by itself.",
    ),
    retryButton(onRetry),
  );
}

function noModelsCard(onRetry) {
  return el(
    "div",
    { class: "empty-card", "data-testid": "no-models" },
    el("div", { class: "empty-icon" }, icon("box")),
    el("h2", { text: "No models yet" }),
    el("p", {}, "Download one from a terminal, for example ", command("ollama pull llama3.2"), "."),
    retryButton(onRetry, "Refresh models"),
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
      return downCard(s.endpoint, s.onRetry);
    case "empty":
      return noModelsCard(s.onRetry);
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
 * @param {{availability: string, endpoint: string, hasMessages: boolean,
 *          firstTime: boolean, errorMessage: string, onRetry: Function, onSuggestion: Function}} s
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
