// The conversation list: select, inline rename, delete with an inline confirm, an item menu
// (pin, export), groups by date (groups.js), and live updates from `conversation.*` frames.
// Searching is search.js's: it shows its results in place of this list.
// Over 300 lines on purpose: the list, its keyboard model and its live updates share state.
import { groupConversations } from "./groups.js";
import { isMenuOpen, showMenu } from "./menu.js";
import { confirmInline, renameBox } from "./sidebaredit.js";
import { toastError } from "./toast.js";
import { icon } from "./icons.js";
import { debounce, el, fullTime, relativeTime } from "./util.js";

const byNewest = (a, b) => (a.updated_at < b.updated_at ? 1 : a.updated_at > b.updated_at ? -1 : 0);

export class Sidebar {
  /**
   * @param {{api, router: FrameRouter, onSelect: (id) => void, onDeleted: (id) => void, onLoaded: (list) => void,
   *          onExport: (id, format) => void}} o
   */
  constructor(o) {
    this.api = o.api;
    this.onSelect = o.onSelect;
    this.onDeleted = o.onDeleted;
    this.onLoaded = o.onLoaded;
    this.onExport = o.onExport;
    this.list = document.getElementById("conv-list");
    this.empty = document.getElementById("conv-empty");
    this.conversations = [];
    this.activeId = null;
    this.loadSeq = 0;
    this.inFlight = 0; // list requests on their way
    this.editing = false;
    this.refreshSoon = debounce(() => this.refresh(), 200);
    this.list.addEventListener("keydown", (e) => this.arrowKeys(e));
    o.router.on("conversation.", (frame) => this.onEvent(frame));
    this.grouping = ""; // which chat is in which group, as last drawn
    setInterval(() => this.updateTimes(), 60000);
  }

  /** Reload the list; stale answers are dropped. */
  async refresh() {
    const seq = ++this.loadSeq;
    this.inFlight += 1;
    try {
      const body = await this.api.conversations();
      if (seq !== this.loadSeq) return;
      this.conversations = body.conversations || [];
      this.onLoaded(this.conversations);
      this.render();
    } catch (err) {
      // 401: the page has no token; the chat pane already explains that.
      if (seq === this.loadSeq && err.status !== 401)
        toastError("Couldn't load conversations", err);
    } finally {
      this.inFlight -= 1;
    }
  }

  /** A `conversation.*` frame: another window, or the backend (titles), changed the list. */
  onEvent(frame) {
    const c = frame.conversation || {};
    if (frame.type === "conversation.deleted") {
      this.dropped(c.id);
      return;
    }
    // Frames that carry the whole conversation are merged; the others ({id} after a reply,
    // an import) say "something changed": read the list again.
    if (
      (frame.type === "conversation.created" || frame.type === "conversation.updated") &&
      c.updated_at
    ) {
      // An answer already on its way may be older than this frame: ask again after it.
      this.loadSeq += 1;
      if (this.inFlight) this.refreshSoon();
      const at = this.conversations.findIndex((x) => x.id === c.id);
      const merged = { ...(at >= 0 ? this.conversations[at] : {}), ...c };
      delete merged.messages;
      if (at >= 0) this.conversations.splice(at, 1, merged);
      else this.conversations.push(merged);
      this.conversations.sort(byNewest);
      this.onLoaded(this.conversations);
      this.render();
    } else {
      this.refreshSoon();
    }
  }

  dropped(id) {
    if (!this.conversations.some((x) => x.id === id)) return;
    this.loadSeq += 1;
    if (this.inFlight) this.refreshSoon();
    this.conversations = this.conversations.filter((x) => x.id !== id);
    this.render();
    this.onDeleted(id);
    this.onLoaded(this.conversations);
  }

  /** The chats' rows, in the order they are shown (groups included). */
  rows() {
    return [...this.list.querySelectorAll(".conv-item")];
  }

  setActive(id) {
    this.activeId = id;
    for (const item of this.rows()) {
      const active = item.dataset.conversationId === id;
      item.classList.toggle("active", active);
      const main = item.querySelector(".conv-main");
      if (main) main.setAttribute("aria-current", active ? "page" : "false");
    }
    // The tab stop follows the open chat, unless the user is moving through the list now.
    if (!this.list.contains(document.activeElement)) this.setTabStop();
  }

  render() {
    // Never yank an input, a menu or a confirmation from under the user's fingers.
    if (this.editing || isMenuOpen() || this.list.querySelector(".confirming")) {
      this.stale = true;
      return;
    }
    this.stale = false;
    const focused = this.list.contains(document.activeElement) ? document.activeElement : null;
    const focusId =
      focused && focused.closest("li") ? focused.closest("li").dataset.conversationId : null;
    const focusTestid = focused ? focused.dataset.testid : null;
    const groups = groupConversations(this.conversations);
    this.grouping = groupingOf(groups);
    this.list.replaceChildren(...groups.flatMap((g) => this.group(g)));
    this.setTabStop();
    this.empty.hidden = this.conversations.length > 0;
    this.empty.textContent = "No conversations yet. Your chats will appear here.";
    if (focusId) this.refocus(focusId, focusTestid);
  }

  /** A group's heading (not a tab stop: arrow keys pass over it) and its list of chats. */
  group(g) {
    const headingId = `conv-group-${g.key}`;
    return [
      el("h2", {
        class: "conv-group-title",
        id: headingId,
        "data-testid": "conversation-group",
        text: g.label,
      }),
      el(
        "ul",
        { class: "conv-group", "aria-labelledby": headingId },
        ...g.items.map((c) => this.item(c)),
      ),
    ];
  }

  // A live update re-rendered the list under keyboard focus: put focus back where it was.
  refocus(id, testid) {
    const li = this.rows().find((x) => x.dataset.conversationId === id);
    const target =
      li && (li.querySelector(`[data-testid="${testid}"]`) || li.querySelector(".conv-main"));
    if (target) this.moveFocus(target, { preventScroll: true });
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
    const more = actionButton("more", "More actions", "conversation-menu-button", () =>
      this.openMenu(more, c),
    );
    main.addEventListener("contextmenu", (e) => {
      e.preventDefault();
      this.openMenu(more, c, e.clientX, e.clientY);
    });
    const li = el(
      "li",
      {
        class: `conv-item${c.id === this.activeId ? " active" : ""}`,
        "data-testid": "conversation-item",
        "data-conversation-id": c.id,
      },
      main,
      el("div", { class: "conv-actions" }, rename, more, del),
    );
    return li;
  }

  openMenu(anchor, c, x = null, y = null) {
    const items = [
      {
        label: c.pinned ? "Unpin" : "Pin to top",
        icon: "pin",
        testid: "conversation-pin",
        onSelect: () => this.togglePin(c),
      },
      {
        label: "Export as Markdown",
        icon: "download",
        testid: "conversation-export-markdown",
        onSelect: () => this.onExport(c.id, "markdown"),
      },
      {
        label: "Export as JSON",
        icon: "download",
        testid: "conversation-export-json",
        onSelect: () => this.onExport(c.id, "json"),
      },
    ];
    const li = anchor.closest(".conv-item");
    li.classList.add("menu-open");
    const onClose = () => {
      li.classList.remove("menu-open");
      if (this.stale) this.render(); // catch up with what changed while it was open
    };
    showMenu(anchor, items, { testid: "conversation-menu", x, y, onClose });
  }

  startRename(li, c) {
    this.editing = true;
    renameBox(li, c.title || "", async (title) => {
      this.editing = false;
      if (title && title !== c.title) await this.rename(c, title);
      this.render();
      this.focusItem(c.id);
    });
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

  /** Pin or unpin; the chat moves to its new group and keyboard focus goes with it. */
  async togglePin(c) {
    const refocus = this.list.contains(document.activeElement);
    try {
      const updated = await this.api.updateConversation(c.id, { pinned: !c.pinned });
      Object.assign(c, updated || { pinned: !c.pinned });
    } catch (err) {
      toastError(c.pinned ? "Couldn't unpin" : "Couldn't pin", err);
      return;
    }
    this.render();
    if (refocus) this.focusItem(c.id);
  }

  confirmDelete(li, c) {
    confirmInline(li, {
      onYes: () => {
        li.classList.remove("confirming"); // answered: the list may re-render again
        this.remove(c);
      },
      onNo: () => this.stale && this.render(), // catch up with what changed meanwhile
    });
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
    // Past midnight a chat may belong to another group: draw the groups again.
    if (groupingOf(groupConversations(this.conversations)) !== this.grouping) this.render();
    for (const time of this.list.querySelectorAll("time.conv-time")) {
      time.textContent = relativeTime(time.getAttribute("datetime"));
    }
  }

  focusItem(id) {
    const item = this.rows().find((li) => li.dataset.conversationId === id);
    if (item) this.moveFocus(item.querySelector(".conv-main"));
  }

  /**
   * The list is one tab stop (roving tabindex): Up/Down/Home/End move between chats,
   * Left/Right between a chat and its buttons (rename, more, delete); F2 renames, Delete
   * asks to delete the focused chat and P pins or unpins it. Group headings are not rows.
   */
  arrowKeys(e) {
    const li = e.target.closest(".conv-item");
    if (!li || e.target.closest(".conv-rename, .confirm")) return;
    const rows = [...this.list.querySelectorAll(".conv-main")];
    const row = rows.indexOf(li.querySelector(".conv-main"));
    const inRow = [...li.querySelectorAll(".conv-main, .conv-action")];
    const col = inRow.indexOf(e.target);
    const target = {
      ArrowDown: rows[row + 1],
      ArrowUp: rows[row - 1],
      Home: rows[0],
      End: rows[rows.length - 1],
      ArrowRight: inRow[col + 1],
      ArrowLeft: inRow[col - 1],
    }[e.key];
    const c = this.conversations.find((x) => x.id === li.dataset.conversationId);
    const plain = !e.ctrlKey && !e.metaKey && !e.altKey;
    if (e.key === "F2" && c) this.startRename(li, c);
    else if ((e.key === "p" || e.key === "P") && plain && c) this.togglePin(c);
    else if (e.key === "Delete" && c) this.confirmDelete(li, c);
    else if (target) this.moveFocus(target);
    else return;
    e.preventDefault();
  }

  moveFocus(target, options = {}) {
    for (const stop of this.list.querySelectorAll('[tabindex="0"]')) stop.tabIndex = -1;
    target.tabIndex = 0;
    target.focus(options);
  }

  /** After a render: the one tab stop is the open chat's row (or the first row). */
  setTabStop() {
    const mains = [...this.list.querySelectorAll(".conv-main")];
    const current =
      mains.find((m) => m.getAttribute("aria-current") === "page") || mains[0] || null;
    for (const m of mains) m.tabIndex = m === current ? 0 : -1;
  }
}

/** Which chat is in which group: drawn again when this changes. */
function groupingOf(groups) {
  return groups.map((g) => `${g.key}:${g.items.map((c) => c.id).join(",")}`).join(";");
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
      tabindex: "-1", // reached with the arrow keys: the list is one tab stop
    },
    icon(name),
  );
  button.addEventListener("click", (e) => {
    e.stopPropagation();
    onClick();
  });
  return button;
}
