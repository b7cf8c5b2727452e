// The conversation list: search, select, inline rename and delete with an inline confirm.
import { toastError } from "./toast.js";
import { debounce, el, fullTime, icon, relativeTime } from "./util.js";

export class Sidebar {
  /** @param {{api, onSelect: (id) => void, onDeleted: (id) => void, onLoaded: (list) => void}} o */
  constructor(o) {
    this.api = o.api;
    this.onSelect = o.onSelect;
    this.onDeleted = o.onDeleted;
    this.onLoaded = o.onLoaded;
    this.list = document.getElementById("conv-list");
    this.empty = document.getElementById("conv-empty");
    this.search = document.getElementById("search");
    this.conversations = [];
    this.activeId = null;
    this.query = "";
    this.loadSeq = 0;
    this.editing = false;
    const searchLater = debounce(() => this.refresh(), 250);
    this.search.addEventListener("input", () => {
      this.query = this.search.value.trim();
      searchLater();
    });
    this.search.addEventListener("keydown", (e) => {
      if (e.key === "Escape" && this.search.value) {
        this.search.value = "";
        this.query = "";
        this.refresh();
      }
    });
    this.list.addEventListener("keydown", (e) => this.arrowKeys(e));
    setInterval(() => this.updateTimes(), 60000);
  }

  /** Reload the list (with the current search); stale answers are dropped. */
  async refresh() {
    const seq = ++this.loadSeq;
    try {
      const body = await this.api.conversations(this.query);
      if (seq !== this.loadSeq) return;
      this.conversations = body.conversations || [];
      if (!this.query) this.onLoaded(this.conversations);
      this.render();
    } catch (err) {
      // 401: the page has no token; the chat pane already explains that.
      if (seq === this.loadSeq && err.status !== 401)
        toastError("Couldn't load conversations", err);
    }
  }

  setActive(id) {
    this.activeId = id;
    for (const item of this.list.children) {
      const active = item.dataset.conversationId === id;
      item.classList.toggle("active", active);
      const main = item.querySelector(".conv-main");
      if (main) main.setAttribute("aria-current", active ? "page" : "false");
    }
  }

  find(id) {
    return this.conversations.find((c) => c.id === id) || null;
  }

  render() {
    if (this.editing) return; // never yank an input from under the user's fingers
    this.list.replaceChildren(...this.conversations.map((c) => this.item(c)));
    this.empty.hidden = this.conversations.length > 0;
    this.empty.textContent = this.query
      ? `No chats match “${this.query}”.`
      : "No conversations yet. Your chats will appear here.";
  }

  item(c) {
    const main = el(
      "button",
      {
        type: "button",
        class: "conv-main",
        "data-testid": "conversation-open",
        "aria-current": c.id === this.activeId ? "page" : "false",
        title: c.title || "New chat",
      },
      el("span", {
        class: "conv-title",
        "data-testid": "conversation-title",
        text: c.title || "New chat",
      }),
      el("time", {
        class: "conv-time",
        datetime: c.updated_at,
        title: fullTime(c.updated_at),
        text: relativeTime(c.updated_at),
      }),
    );
    main.addEventListener("click", () => this.onSelect(c.id));
    main.addEventListener("dblclick", () => this.startRename(li, c));
    const rename = actionButton("pencil", "Rename conversation", "conversation-rename", () =>
      this.startRename(li, c),
    );
    const del = actionButton("trash", "Delete conversation", "conversation-delete", () =>
      this.confirmDelete(li, c),
    );
    const li = el(
      "li",
      {
        class: `conv-item${c.id === this.activeId ? " active" : ""}`,
        "data-testid": "conversation-item",
        "data-conversation-id": c.id,
      },
      main,
      el("div", { class: "conv-actions" }, rename, del),
    );
    return li;
  }

  startRename(li, c) {
    this.editing = true;
    const input = el("input", {
      type: "text",
      class: "conv-rename",
      "data-testid": "conversation-rename-input",
      "aria-label": "Conversation title",
      maxlength: 200,
    });
    input.value = c.title || "";
    li.classList.add("editing");
    li.replaceChildren(input);
    input.focus();
    input.select();
    let done = false;
    const finish = async (commit) => {
      if (done) return;
      done = true;
      this.editing = false;
      const title = input.value.trim();
      if (commit && title && title !== c.title) await this.rename(c, title);
      this.render();
      this.focusItem(c.id);
    };
    input.addEventListener("keydown", (e) => {
      if (e.key === "Enter") finish(true);
      if (e.key === "Escape") finish(false);
    });
    input.addEventListener("blur", () => finish(true));
  }

  async rename(c, title) {
    try {
      const updated = await this.api.updateConversation(c.id, { title });
      Object.assign(c, updated || { title });
      this.onLoaded(this.conversations);
    } catch (err) {
      toastError("Couldn't rename", err);
    }
  }

  confirmDelete(li, c) {
    const actions = li.querySelector(".conv-actions");
    const cancel = () => {
      li.classList.remove("confirming");
      actions.replaceChildren(...saved);
      li.querySelector(".conv-main").focus();
    };
    const saved = [...actions.childNodes];
    const yes = el(
      "button",
      { type: "button", class: "confirm-yes", "data-testid": "conversation-delete-confirm" },
      "Delete",
    );
    const no = el(
      "button",
      { type: "button", class: "confirm-no", "data-testid": "conversation-delete-cancel" },
      "Cancel",
    );
    yes.addEventListener("click", () => this.remove(c));
    no.addEventListener("click", cancel);
    actions.addEventListener("keydown", (e) => e.key === "Escape" && cancel(), { once: true });
    li.classList.add("confirming");
    actions.replaceChildren(el("span", { class: "confirm-text", text: "Delete?" }), yes, no);
    no.focus();
  }

  async remove(c) {
    try {
      await this.api.deleteConversation(c.id);
    } catch (err) {
      if (err.status !== 404) {
        toastError("Couldn't delete", err);
        return;
      }
    }
    this.conversations = this.conversations.filter((x) => x.id !== c.id);
    this.render();
    this.onDeleted(c.id);
    this.onLoaded(this.conversations);
  }

  updateTimes() {
    for (const time of this.list.querySelectorAll("time.conv-time")) {
      time.textContent = relativeTime(time.getAttribute("datetime"));
    }
  }

  focusItem(id) {
    const item = [...this.list.children].find((li) => li.dataset.conversationId === id);
    if (item) item.querySelector(".conv-main").focus();
  }

  arrowKeys(e) {
    if (e.key !== "ArrowDown" && e.key !== "ArrowUp") return;
    const buttons = [...this.list.querySelectorAll(".conv-main")];
    const index = buttons.indexOf(document.activeElement);
    if (index < 0) return;
    e.preventDefault();
    const next = buttons[index + (e.key === "ArrowDown" ? 1 : -1)];
    if (next) next.focus();
  }
}

function actionButton(name, label, testid, onClick) {
  const button = el(
    "button",
    {
      type: "button",
      class: "conv-action",
      "aria-label": label,
      title: label,
      "data-testid": testid,
    },
    icon(name),
  );
  button.addEventListener("click", (e) => {
    e.stopPropagation();
    onClick();
  });
  return button;
}
