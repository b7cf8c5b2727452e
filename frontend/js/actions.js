// Per-message actions: the branch pager, Copy, Edit, Regenerate (also with another model),
// Continue (in a stopped reply's note) and Delete (with an inline confirm). Buttons are built
// per message; one delegated click handler serves the list.
import { announce } from "./announce.js";
import { icon } from "./icons.js";
import { rawTextOf, toolbarOf } from "./messages.js";
import { copyText, el } from "./util.js";

const COPIED_MS = 1400;

function button(action, iconName, label, testid, { needsIdle = true, text = null } = {}) {
  return el(
    "button",
    {
      type: "button",
      class: text ? "msg-btn msg-btn-text" : "msg-btn",
      "data-action": action,
      "data-needs-idle": needsIdle ? "" : null,
      "data-testid": testid,
      "aria-label": label,
      title: label,
    },
    iconName ? icon(iconName) : null,
    text ? el("span", { text }) : null,
  );
}

/** "‹ 2 / 3 ›" for a message with alternatives; null without. */
function pager(message) {
  const siblings = message.siblings;
  if (!Array.isArray(siblings) || siblings.length < 2) return null;
  const index = siblings.indexOf(message.id);
  const what = message.role === "user" ? "message" : "reply";
  const prev = button("prev", "left", `Previous version of this ${what}`, "branch-prev");
  const next = button("next", "right", `Next version of this ${what}`, "branch-next");
  prev.dataset.target = siblings[index - 1] || "";
  next.dataset.target = siblings[index + 1] || "";
  prev.dataset.edge = index <= 0 ? "true" : "";
  next.dataset.edge = index >= siblings.length - 1 ? "true" : "";
  return el(
    "div",
    { class: "pager", role: "group", "aria-label": `Versions of this ${what}` },
    prev,
    el("span", {
      class: "pager-count",
      "data-testid": "branch-pager",
      text: `${index + 1} / ${siblings.length}`,
      title: `Version ${index + 1} of ${siblings.length}`,
    }),
    next,
  );
}

export class MessageActions {
  /**
   * @param {HTMLElement} list the message list (clicks are delegated from it)
   * @param {{regenerate: (id) => void, regenerateWith: (id, anchor) => void,
   *          continueReply: (id) => void, edit: (id) => void,
   *          activate: (id, action, article) => void, remove: (id) => void}} handlers
   */
  constructor(list, handlers) {
    this.list = list;
    this.handlers = handlers;
    this.busy = false;
    this.latest = new WeakMap(); // article -> what fill() was last asked to show
    list.addEventListener("click", (event) => this.onClick(event));
  }

  /** Fill a message's toolbar. `lastReply`: the newest reply, the one Regenerate redoes. */
  fill(article, message, { lastReply = false } = {}) {
    const bar = toolbarOf(article);
    if (!bar) return;
    const key = JSON.stringify([message.id, message.status, message.siblings || [], lastReply]);
    this.latest.set(article, { message, lastReply });
    // Unchanged, or a delete being confirmed: leave it (and the keyboard focus in it) alone.
    if (bar.dataset.key === key || bar.classList.contains("confirming")) return;
    bar.dataset.key = key;
    const user = message.role === "user";
    const copyLabel = user ? "Copy message" : "Copy reply";
    bar.replaceChildren(
      ...[
        pager(message),
        button("copy", "copy", copyLabel, "message-copy", { needsIdle: false }),
        user ? button("edit", "pencil", "Edit message", "message-edit") : null,
        // A reply that did not finish has its own Regenerate in its note.
        !user && lastReply && message.status === "complete"
          ? button("regenerate", "refresh", "Regenerate reply", "message-regenerate")
          : null,
        !user && lastReply
          ? button(
              "regenerate-with",
              "swap",
              "Regenerate with another model…",
              "message-regenerate-with",
            )
          : null,
        button("delete", "trash", user ? "Delete message" : "Delete reply", "message-delete"),
      ].filter(Boolean),
    );
    article.classList.toggle("last-reply", lastReply);
    this.sync(article);
  }

  /** While a reply streams, nothing that changes the conversation can be clicked. */
  setBusy(busy) {
    this.busy = busy;
    this.sync(this.list);
  }

  sync(root) {
    // Only real changes: a write, even of the same value, restyles the message.
    for (const b of root.querySelectorAll("button[data-needs-idle]")) {
      const disabled = this.busy || b.dataset.edge === "true";
      if (b.disabled !== disabled) b.disabled = disabled;
    }
  }

  onClick(event) {
    const target = event.target.closest("button[data-action]");
    const article = target && target.closest("article.message");
    if (!article || !this.list.contains(article) || target.disabled) return;
    const id = article.dataset.messageId;
    const action = target.dataset.action;
    if (action === "copy") this.copy(article, target);
    else if (!id) return;
    else if (action === "edit") this.handlers.edit(id);
    else if (action === "regenerate") this.handlers.regenerate(id);
    else if (action === "regenerate-with") this.handlers.regenerateWith(id, target);
    else if (action === "continue") this.handlers.continueReply(id);
    else if (action === "prev" || action === "next") {
      if (target.dataset.target) this.handlers.activate(target.dataset.target, action, article);
    } else if (action === "delete") this.confirmDelete(article, id);
  }

  async copy(article, target) {
    if (!(await copyText(rawTextOf(article)))) {
      announce("Couldn't copy");
      return;
    }
    const bar = target.closest(".msg-toolbar");
    target.classList.add("copied");
    target.replaceChildren(icon("check"));
    const tip = el("span", { class: "copied-tip", "data-testid": "copied", text: "Copied" });
    target.after(tip);
    announce("Copied to the clipboard");
    setTimeout(() => {
      target.classList.remove("copied");
      target.replaceChildren(icon("copy"));
      tip.remove();
    }, COPIED_MS);
    if (bar) bar.classList.add("holding"); // keep the bar shown while the tip is up
    setTimeout(() => bar && bar.classList.remove("holding"), COPIED_MS);
  }

  /** An inline "Delete?" in place of the toolbar; Esc or Cancel puts the toolbar back. */
  confirmDelete(article, id) {
    const bar = toolbarOf(article);
    const last = !article.nextElementSibling;
    const cancel = () => {
      bar.classList.remove("confirming");
      delete bar.dataset.key;
      const { message, lastReply } = this.latest.get(article);
      this.fill(article, message, { lastReply });
      const again = bar.querySelector("[data-action=delete]");
      if (again) again.focus();
    };
    const yes = el(
      "button",
      { type: "button", class: "confirm-yes", "data-testid": "message-delete-confirm" },
      "Delete",
    );
    const no = el(
      "button",
      { type: "button", class: "confirm-no", "data-testid": "message-delete-cancel" },
      "Cancel",
    );
    yes.addEventListener("click", () => this.handlers.remove(id));
    no.addEventListener("click", cancel);
    const question = last ? "Delete this message?" : "Delete this and everything after it?";
    const confirm = el(
      "div",
      { class: "confirm", role: "group", "aria-label": "Confirm delete" },
      el("span", { class: "confirm-text", text: question }),
      yes,
      no,
    );
    confirm.addEventListener("keydown", (e) => {
      if (e.key !== "Escape") return;
      e.preventDefault();
      e.stopPropagation(); // Esc here cancels the delete, not a streaming reply
      cancel();
    });
    bar.classList.add("confirming");
    bar.replaceChildren(confirm);
    no.focus();
  }
}
