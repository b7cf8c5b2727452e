// Search as you type: `GET /api/conversations?q=` with highlighted snippets, shown in place
// of the conversation list. The input is a combobox: arrow keys move through the results,
// Enter opens one. Opening one takes the reader to the match in the conversation; the query
// and the results stay (the opened one marked) until Esc in the box or its clear button.
import { MOD_KEY } from "./format.js";
import { icon } from "./icons.js";
import { toastError } from "./toast.js";
import { debounce, el, fullTime, relativeTime } from "./util.js";

const DELAY_MS = 120; // fast enough to feel live, slow enough not to query every keystroke

/** An excerpt's pieces (`snippet_parts`) as text nodes, each match in a <mark>. */
export function excerptNodes(parts) {
  return (parts || []).map(({ text, mark }) =>
    mark ? el("mark", { text: String(text) }) : document.createTextNode(String(text)),
  );
}

// A snippet shows two lines, a title one: if long words before the match pushed it out of
// them, cut the words before it (the backend already starts close to the match; this covers
// any width).
function keepMatchInView(box) {
  const mark = box.querySelector("mark");
  const lead = mark && mark.previousSibling;
  if (!lead || lead.nodeType !== Node.TEXT_NODE) return;
  const fits = () => {
    const shown = box.getBoundingClientRect();
    const { bottom, right } = mark.getBoundingClientRect();
    return bottom <= shown.bottom + 1 && right <= shown.right + 1;
  };
  if (fits()) return;
  const words = lead.data.trim().split(" ");
  lead.data = `…${words[words.length - 1]} `;
  if (!fits()) lead.data = "…";
}

export class Search {
  /**
   * @param {{api, onOpen: (result: {id: string, message_id?: string, query: string}) => void,
   *   onClear?: () => void}} o
   */
  constructor({ api, onOpen, onClear = () => {} }) {
    this.api = api;
    this.onOpen = onOpen;
    this.onClear = onClear;
    this.input = document.getElementById("search");
    this.clearButton = document.getElementById("search-clear");
    this.results = document.getElementById("search-results");
    this.empty = document.getElementById("search-empty");
    this.hidden = [document.getElementById("conv-list"), document.getElementById("conv-empty")];
    this.query = "";
    this.shownQuery = "";
    this.items = [];
    this.active = -1;
    this.openedId = null;
    this.seq = 0;
    this.runQuery = null; // the query of the newest search sent…
    this.pending = null; // …and its answer
    // Not if Enter already searched for this text (a second search would discard its answer).
    const later = debounce(() => this.query !== this.runQuery && this.run(), DELAY_MS);
    this.input.addEventListener("input", () => {
      this.query = this.input.value.trim();
      this.clearButton.hidden = !this.input.value;
      if (this.query) later();
      else this.clear();
    });
    this.clearButton.addEventListener("click", () => {
      this.clear();
      this.input.focus();
    });
    this.input.addEventListener("keydown", (e) => this.keys(e));
    const hint = document.querySelector(".search-key");
    if (hint) hint.textContent = `${MOD_KEY} K`;
  }

  get searching() {
    return Boolean(this.query);
  }

  focus() {
    this.input.focus();
    this.input.select();
  }

  /** Back to the conversation list. */
  clear() {
    this.seq += 1;
    this.input.value = "";
    this.query = "";
    this.shownQuery = "";
    this.runQuery = null;
    this.items = [];
    this.active = -1;
    this.results.replaceChildren();
    this.clearButton.hidden = true;
    this.show(false);
    this.onClear();
  }

  /** Run the search again (conversations changed while results are shown). */
  refresh() {
    if (this.query) this.run();
  }

  /** Search for what is typed now; the promise is kept, for Enter to wait on. */
  run() {
    this.pending = this.search();
    return this.pending;
  }

  async search() {
    const seq = ++this.seq;
    const q = this.query;
    this.runQuery = q;
    let body;
    try {
      body = await this.api.conversations(q);
    } catch (err) {
      if (seq === this.seq && err.status !== 401) toastError("Search failed", err);
      return;
    }
    if (seq !== this.seq) return; // a newer query was typed meanwhile
    this.items = body.conversations || [];
    this.active = this.items.length ? 0 : -1;
    this.shownQuery = q;
    this.render(q);
  }

  show(on) {
    this.results.hidden = !on || !this.items.length;
    this.empty.hidden = !on || this.items.length > 0;
    for (const node of this.hidden) node.classList.toggle("search-covered", on);
    this.input.setAttribute("aria-expanded", String(on && this.items.length > 0));
    if (!on) this.input.removeAttribute("aria-activedescendant");
  }

  render(q) {
    this.results.replaceChildren(...this.items.map((c, i) => this.item(c, i)));
    this.empty.replaceChildren(
      el("strong", { text: "No matches" }),
      el("span", { text: `Nothing in your chats matches “${q}”.` }),
    );
    this.show(true);
    this.mark();
    for (const box of this.results.querySelectorAll(".result-snippet, .result-title")) {
      keepMatchInView(box);
    }
  }

  item(c, i) {
    const isTitle = c.match !== "message";
    const title = el("span", { class: "result-title", "data-testid": "search-result-title" });
    if (isTitle && c.snippet_parts) title.replaceChildren(...excerptNodes(c.snippet_parts));
    else title.textContent = c.title || "New chat";
    const where = el(
      "span",
      { class: "result-where" },
      icon(isTitle ? "title" : "chat"),
      el("span", { text: isTitle ? "Title" : "Message" }),
    );
    const snippet = el("span", { class: "result-snippet", "data-testid": "search-result-snippet" });
    if (isTitle)
      snippet.textContent = c.message_count ? `${c.message_count} messages` : "No messages";
    else snippet.replaceChildren(...excerptNodes(c.snippet_parts));
    // A hit on an earlier answer or the text before an edit: opening it shows that version.
    const other = c.match === "message" && c.hidden_branch;
    const note = other
      ? el(
          "span",
          { class: "result-note", "data-testid": "search-result-version" },
          icon("branch"),
          el("span", { text: "In another version" }),
        )
      : null;
    const li = el(
      "li",
      {
        id: `search-result-${i}`,
        role: "option",
        class: "search-result",
        "data-testid": "search-result",
        "data-match": isTitle ? "title" : "message",
        "data-hidden-branch": other ? "true" : null,
        "data-conversation-id": c.id,
        "aria-selected": "false",
      },
      el(
        "span",
        { class: "result-head" },
        title,
        el("time", {
          class: "conv-time",
          datetime: c.updated_at,
          title: fullTime(c.updated_at),
          text: relativeTime(c.updated_at),
        }),
      ),
      el("span", { class: "result-line" }, where, snippet),
      note,
    );
    // mousedown would move focus out of the combobox first; keep it in the input.
    li.addEventListener("mousedown", (e) => e.preventDefault());
    li.addEventListener("click", () => this.open(i));
    return li;
  }

  /** Show which result is active (keyboard) and which one is open. */
  mark() {
    [...this.results.children].forEach((li, i) => {
      li.setAttribute("aria-selected", String(i === this.active));
      li.classList.toggle("open", li.dataset.conversationId === this.openedId);
    });
    const current = this.results.children[this.active];
    if (current) {
      this.input.setAttribute("aria-activedescendant", current.id);
      current.scrollIntoView({ block: "nearest" });
    } else this.input.removeAttribute("aria-activedescendant");
  }

  open(i) {
    const c = this.items[i];
    if (!c) return;
    this.active = i;
    this.openedId = c.id;
    this.mark();
    const messageId = c.match === "message" ? c.message_id : null;
    this.onOpen({ id: c.id, message_id: messageId, query: this.shownQuery });
  }

  /** The open conversation changed (from anywhere): mark it among the results. */
  setOpen(id) {
    this.openedId = id;
    if (this.query) this.mark();
  }

  keys(e) {
    if (e.key === "Escape") {
      if (!this.input.value) return;
      e.preventDefault();
      e.stopPropagation(); // clearing the search must not also stop a streaming reply
      this.clear();
    } else if ((e.key === "ArrowDown" || e.key === "ArrowUp") && this.items.length && this.query) {
      e.preventDefault();
      const step = e.key === "ArrowDown" ? 1 : -1;
      this.active = (this.active + step + this.items.length) % this.items.length;
      this.mark();
    } else if (e.key === "Enter" && this.query) {
      e.preventDefault();
      this.enter();
    }
  }

  // Enter typed faster than the debounce: search for what is typed now, then open. A newer
  // search for the same text (the chat list changed meanwhile) may answer in its place.
  async enter() {
    const q = this.query;
    if (this.shownQuery !== q) await this.run();
    for (let tries = 0; tries < 3 && this.shownQuery !== q && this.pending; tries += 1) {
      await this.pending;
    }
    if (this.shownQuery === q && this.query === q) this.open(Math.max(this.active, 0));
  }
}
