// Modal dialogs on the native <dialog>: the page behind is inert, Tab stays inside, Esc and
// a click on the backdrop close, and focus goes back to where it was before.
import { icon } from "./icons.js";
import { el } from "./util.js";

const FOCUSABLE = [
  "a[href]",
  "button:not([disabled])",
  "input:not([disabled]):not([type=hidden])",
  "select:not([disabled])",
  "textarea:not([disabled])",
  '[tabindex]:not([tabindex="-1"])',
].join(",");

let serial = 0;

/** Elements Tab can reach inside `root`, in order (hidden ones left out). */
export function focusables(root) {
  return [...root.querySelectorAll(FOCUSABLE)].filter(
    (node) => !node.closest("[hidden]") && node.getClientRects().length > 0,
  );
}

export class Dialog {
  /** @param {{title: string, testid: string, className?: string, onClose?: () => void}} o */
  constructor({ title, testid, className = "", onClose = null }) {
    serial += 1;
    const titleId = `dialog-title-${serial}`;
    this.onClose = onClose;
    this.heading = el("h2", { class: "panel-title", id: titleId, text: title });
    this.closeButton = el(
      "button",
      {
        type: "button",
        class: "icon-btn panel-close",
        "aria-label": "Close",
        title: "Close (Esc)",
        "data-testid": `${testid}-close`,
      },
      icon("close"),
    );
    this.closeButton.addEventListener("click", () => this.close());
    this.body = el("div", { class: "panel-body" });
    this.element = el(
      "dialog",
      { class: `panel ${className}`.trim(), "data-testid": testid, "aria-labelledby": titleId },
      el(
        "div",
        { class: "panel-frame" },
        el("header", { class: "panel-head" }, this.heading, this.closeButton),
        this.body,
      ),
    );
    this.element.addEventListener("keydown", (e) => this.trapTab(e));
    this.element.addEventListener("close", () => this.afterClose());
    // The backdrop belongs to the <dialog> itself; the content sits in .panel-frame.
    this.element.addEventListener("mousedown", (e) => {
      if (e.target === this.element) this.close();
    });
    this.returnTo = null;
    document.body.append(this.element);
  }

  get isOpen() {
    return this.element.open;
  }

  /** Open (modal) and focus `focusTarget`, else the first control of the body. */
  open(focusTarget = null) {
    if (this.element.open) {
      if (focusTarget) focusTarget.focus();
      return;
    }
    this.returnTo = document.activeElement;
    this.element.showModal();
    const target = focusTarget || focusables(this.body)[0] || this.closeButton;
    target.focus();
  }

  close() {
    if (this.element.open) this.element.close();
  }

  afterClose() {
    const back = this.returnTo;
    this.returnTo = null;
    if (back && back.isConnected && typeof back.focus === "function") back.focus();
    if (this.onClose) this.onClose();
  }

  // showModal() makes the page inert, but Tab would still leave for the browser's own UI.
  trapTab(e) {
    if (e.key !== "Tab") return;
    const items = focusables(this.element);
    if (!items.length) return;
    const first = items[0];
    const last = items[items.length - 1];
    if (e.shiftKey && (document.activeElement === first || !this.element.contains(e.target))) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && document.activeElement === last) {
      e.preventDefault();
      first.focus();
    }
  }
}

/**
 * Ask before something that can't be undone. Resolves true when confirmed.
 * @param {{title: string, message: (string|Node)[], confirmLabel: string, testid?: string}} o
 */
export function confirmDialog({ title, message, confirmLabel, testid = "confirm-dialog" }) {
  return new Promise((resolve) => {
    let answer = false;
    const dialog = new Dialog({
      title,
      testid,
      className: "panel-confirm",
      onClose: () => {
        dialog.element.remove();
        resolve(answer);
      },
    });
    dialog.element.setAttribute("role", "alertdialog");
    const cancel = el(
      "button",
      { type: "button", class: "btn", "data-testid": `${testid}-cancel` },
      "Cancel",
    );
    const ok = el(
      "button",
      { type: "button", class: "btn btn-danger", "data-testid": `${testid}-ok` },
      confirmLabel,
    );
    cancel.addEventListener("click", () => dialog.close());
    ok.addEventListener("click", () => {
      answer = true;
      dialog.close();
    });
    const text = el("p", { class: "panel-text", id: `${dialog.heading.id}-text` }, ...message);
    dialog.element.setAttribute("aria-describedby", text.id);
    dialog.body.append(text, el("div", { class: "panel-actions" }, cancel, ok));
    // The safe choice has focus: Enter right after the click that opened it must not delete.
    dialog.open(cancel);
  });
}
