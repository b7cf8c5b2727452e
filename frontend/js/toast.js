// Small, self-dismissing notifications: the only way errors reach the user (never alert()).
import { icon } from "./icons.js";
import { el } from "./util.js";

const MAX_TOASTS = 3;

export function toast(message, { kind = "error", timeout = 5000 } = {}) {
  const host = document.getElementById("toasts");
  if (!host) return;
  const close = el("button", { type: "button", class: "toast-close", "aria-label": "Dismiss" });
  close.textContent = "×";
  const node = el(
    "div",
    { class: `toast toast-${kind}`, "data-testid": "toast", "data-kind": kind },
    kind === "error" ? icon("alert") : icon("check"),
    el("span", { class: "toast-text", text: message }),
    close,
  );
  const dismiss = () => {
    node.classList.add("leaving");
    setTimeout(() => node.remove(), 180);
  };
  close.addEventListener("click", dismiss);
  host.append(node);
  while (host.children.length > MAX_TOASTS) host.firstElementChild.remove();
  if (timeout) setTimeout(dismiss, timeout);
}

/** Toast for a failed API call; ApiError messages come from the server and are user-facing. */
export function toastError(prefix, err) {
  const detail = err && err.message ? err.message : String(err);
  toast(prefix ? `${prefix}: ${detail}` : detail);
}
