// One download in the Models dialog: name, Ollama's status line, a progress bar, bytes,
// and Cancel (running) or Try again / Dismiss (failed, with Ollama's own message).
import { humanBytes } from "./format.js";
import { formatRate, formatTimeLeft } from "./pullrate.js";
import { el } from "./util.js";

function smallButton(testid, text, onClick) {
  const button = el(
    "button",
    { type: "button", class: "btn btn-small", "data-testid": testid },
    text,
  );
  button.addEventListener("click", onClick);
  return button;
}

/** The card's parts; `on` = {cancel, retry, dismiss} click handlers. */
export function pullCard(pull, on) {
  const fill = el("div", { class: "progress-fill" });
  const parts = {
    status: el("span", { class: "pull-status", "data-testid": "pull-status" }),
    bar: el(
      "div",
      {
        class: "progress",
        role: "progressbar",
        "aria-valuemin": "0",
        "aria-valuemax": "100",
        "aria-label": `Pulling ${pull.name}`,
        "data-testid": "pull-progress",
      },
      fill,
    ),
    fill,
    bytes: el("span", { class: "pull-bytes", "data-testid": "pull-bytes" }),
    speed: el("span", { class: "pull-speed", "data-testid": "pull-speed" }),
    left: el("span", { class: "pull-left", "data-testid": "pull-time-left" }),
    error: el("p", { class: "pull-error", role: "alert", "data-testid": "pull-error" }),
    cancel: smallButton("pull-cancel", "Cancel", on.cancel),
    retry: smallButton("pull-retry", "Try again", on.retry),
    dismiss: smallButton("pull-dismiss", "Dismiss", on.dismiss),
  };
  parts.root = el(
    "li",
    { class: "pull-card", "data-testid": "pull-item", "data-name": pull.name },
    el(
      "div",
      { class: "pull-top" },
      el("strong", { class: "pull-name", text: pull.name }),
      parts.status,
      el("span", { class: "pull-buttons" }, parts.retry, parts.dismiss, parts.cancel),
    ),
    parts.bar,
    el("div", { class: "pull-figures" }, parts.bytes, parts.speed, parts.left),
    parts.error,
  );
  return parts;
}

/** Show the pull's state now. */
export function fillCard(card, pull) {
  const failed = pull.state === "error";
  card.root.dataset.state = pull.state;
  card.status.textContent = failed ? "Failed" : pull.status;
  card.bar.hidden = failed;
  card.bytes.hidden = failed;
  card.speed.hidden = failed || !pull.total;
  card.left.hidden = failed || !pull.total;
  card.speed.textContent = formatRate(pull.rate);
  card.left.textContent = formatTimeLeft(pull.secondsLeft);
  card.error.hidden = !failed;
  card.error.textContent = failed ? pull.error : "";
  card.cancel.hidden = failed;
  card.cancel.disabled = pull.state === "cancelling";
  card.retry.hidden = !failed;
  card.dismiss.hidden = !failed;
  const known = typeof pull.percent === "number";
  card.bar.classList.toggle("indeterminate", !known);
  if (known) {
    card.bar.setAttribute("aria-valuenow", pull.percent.toFixed(1));
    card.bar.setAttribute("aria-valuetext", `${Math.floor(pull.percent)}%`);
    card.fill.style.width = `${pull.percent}%`;
  } else {
    card.bar.removeAttribute("aria-valuenow");
    card.bar.removeAttribute("aria-valuetext");
    card.fill.style.width = "";
  }
  card.bytes.textContent = pull.total
    ? `${humanBytes(pull.done)} of ${humanBytes(pull.total)} · ${Math.floor(pull.percent)}%`
    : "Waiting for the download to start…";
}
