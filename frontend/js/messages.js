// Message bubbles: user text, assistant Markdown (streaming or final), notes, stats and the
// toolbar slot that actions.js fills.
import { icon } from "./icons.js";
import { imageStrip } from "./images.js";
import { MarkdownStream } from "./mdstream.js";
import { renderMarkdown } from "./render.js";
import { ThinkingBlock } from "./thinking.js";
import { userTextNodes } from "./usertext.js";
import { el, fullTime } from "./util.js";

const NOTES = {
  cancelled: "Stopped",
  interrupted: "Interrupted — the app closed before this reply finished",
  error: "Something went wrong",
};
const FAILED = new Set(["error", "cancelled", "interrupted"]);
const LIVE = new Set(["streaming", "pending"]);

const views = new WeakMap(); // article -> AssistantView
const sources = new WeakMap(); // article -> {status, content}: what it shows, to keep it

function toolbar() {
  return el("div", { class: "msg-toolbar", "data-testid": "message-toolbar" });
}

export function userMessage(message) {
  const body = el("div", { class: "bubble user-text", "data-testid": "message-content" });
  // Plain text (CSS keeps the newlines: pre-wrap), its code shown as code.
  const { nodes, hasCode } = userTextNodes(message.content || "");
  body.append(...nodes);
  body.classList.toggle("markdown", hasCode);
  const images = message.images || [];
  body.hidden = !message.content && images.length > 0; // a picture sent alone
  const article = el(
    "article",
    {
      class: "message user",
      "data-testid": "message",
      "data-role": "user",
      "data-status": message.status || "complete",
      "data-message-id": message.id || null,
      title: message.created_at ? fullTime(message.created_at) : null,
    },
    images.length ? imageStrip(images) : null,
    body,
    el("div", { class: "message-footer" }, toolbar()),
  );
  sources.set(article, {
    status: "complete",
    content: message.content || "",
    images: message.images || [],
  });
  return article;
}

/** The images a user message element shows ([{id, …}]): an edited copy keeps them. */
export function imagesOf(article) {
  const source = sources.get(article);
  return source ? source.images || [] : [];
}

/** The element that holds a message's actions (pager, copy, edit…). */
export function toolbarOf(article) {
  return article.querySelector(":scope > .message-footer > .msg-toolbar");
}

/** The Markdown source (or the user's plain text) of a message element, for Copy. */
export function rawTextOf(article) {
  const view = views.get(article);
  if (view) return view.text;
  const source = sources.get(article);
  return source ? source.content : article.innerText;
}

/** Whether an element already shows this stored message as it is, so it can stay. */
export function showsMessage(article, message) {
  const source = sources.get(article);
  if (!source || source.content !== (message.content || "")) return false;
  if (message.role === "user") return article.dataset.role === "user";
  if (LIVE.has(message.status) || source.status !== message.status) return false;
  const view = views.get(article);
  if (view) view.refresh(message);
  return true;
}

/** Format the `stats` of a reply: "42.1 tok/s · 318 tokens · 7.6 s". */
export function formatStats(stats) {
  if (!stats) return "";
  const parts = [];
  if (typeof stats.tokens_per_second === "number" && stats.tokens_per_second > 0) {
    parts.push(`${stats.tokens_per_second.toFixed(1)} tok/s`);
  }
  if (typeof stats.eval_count === "number") {
    parts.push(`${stats.eval_count} token${stats.eval_count === 1 ? "" : "s"}`);
  }
  if (typeof stats.total_duration_ms === "number") {
    const s = stats.total_duration_ms / 1000;
    parts.push(s < 10 ? `${s.toFixed(1)} s` : `${Math.round(s)} s`);
  }
  return parts.join(" · ");
}

/** "3 older messages were left out to fit the model's context (num_ctx 4096)". */
export function contextText(context) {
  const n = context.dropped;
  const what = n === 1 ? "1 older message was" : `${n} older messages were`;
  const ctx = typeof context.num_ctx === "number" ? ` (num_ctx ${context.num_ctx})` : "";
  return `${what} left out to fit the model's context${ctx}`;
}

/** One assistant reply: a live view while streaming, then a final rendering. `writer`: the
 * model that writes it, as the reply's footer names it ("llama3.2", "qwen3 · LM Studio"). */
export class AssistantView {
  constructor({ id = null, model = "", endpoint = null, status = "streaming", writer = "" } = {}) {
    this.body = el("div", { class: "markdown", "data-testid": "message-content" });
    this.note = el("div", { class: "reply-note", hidden: true });
    this.writer = el("span", { class: "writer", "data-testid": "message-model" });
    this.stats = el("span", { class: "stats", "data-testid": "message-stats" });
    this.toolbar = toolbar();
    this.element = el(
      "article",
      {
        class: "message assistant",
        "data-testid": "message",
        "data-role": "assistant",
        "data-message-id": id,
        "data-model": model || null,
        "data-endpoint": endpoint || null,
      },
      el("div", { class: "bubble" }, this.body),
      this.note,
      el(
        "div",
        { class: "message-footer" },
        this.toolbar,
        el("span", { class: "reply-meta" }, this.writer, this.stats), // wraps as one line
      ),
    );
    this.setWriter(writer || model);
    this.setStatus(status);
    this.stream = null;
    this.thinking = null;
    this.contextNote = null;
    this.text = "";
    views.set(this.element, this);
  }

  setStatus(status) {
    this.element.dataset.status = status;
    // Screen readers wait for a busy region: the list never reads the reply token by token.
    if (LIVE.has(status)) this.element.setAttribute("aria-busy", "true");
    else this.element.removeAttribute("aria-busy");
  }

  setId(id) {
    if (id) this.element.dataset.messageId = id;
  }

  /** Name the model that writes this reply (a regenerate's placeholder learns it at start). */
  setWriter(text, model = null, endpoint = null) {
    if (model) this.element.dataset.model = model;
    if (endpoint) this.element.dataset.endpoint = endpoint;
    if (this.writer.textContent === (text || "")) return;
    this.writer.textContent = text || "";
    this.writer.title = text ? `Written by ${text}` : "";
  }

  /** Show the three-dot indicator until the first token arrives. */
  showTyping() {
    this.body.replaceChildren(
      el(
        "div",
        {
          class: "typing",
          "data-testid": "typing-indicator",
          role: "img",
          "aria-label": "Assistant is typing",
        },
        el("span"),
        el("span"),
        el("span"),
      ),
    );
  }

  /** Add the text streamed since the last call (once per animation frame, or per late one). */
  appendLive(delta) {
    if (!this.stream) {
      this.body.replaceChildren();
      this.stream = new MarkdownStream(this.body);
    }
    this.text += delta;
    if (delta) this.stream.append(delta);
  }

  /** Thinking so far; `times` ({startedAt, endedAt}, our clock) say whether it is over. */
  setThinking(text, times = {}) {
    if (!text) return;
    if (!this.thinking) {
      this.thinking = new ThinkingBlock();
      this.element.querySelector(":scope > .bubble").before(this.thinking.element);
    }
    this.thinking.update(text, times);
  }

  /** Older messages were left out of what the model saw: say so above the reply. */
  setContext(context) {
    if (!context || !(context.dropped > 0)) return;
    if (this.contextNote) this.contextNote.remove();
    this.contextNote = el(
      "div",
      {
        class: "context-note",
        "data-testid": "context-notice",
        title: "A larger num_ctx in Chat settings keeps more of the conversation in view",
      },
      icon("info"),
      el("span", { text: contextText(context) }),
    );
    this.element.prepend(this.contextNote);
  }

  /** Final text, stats, and a note (with a way to redo it) for a reply that did not finish. */
  finish({ content, status, stats = null, error = null, thinkingTimes = {} }) {
    const streamed = this.text;
    this.text = content || "";
    this.setStatus(status);
    if (this.thinking) this.thinking.finish(stats, thinkingTimes);
    if (this.stream) this.stream.finish(this.text, streamed);
    else renderMarkdown(this.body, this.text);
    if (!this.text && status !== "complete") this.body.replaceChildren();
    this.body.classList.toggle("is-empty", !this.text);
    this.renderNote(status, error);
    this.stats.textContent = formatStats(stats);
    sources.set(this.element, { status, content: this.text });
  }

  /** The stored message this view already shows, maybe with figures it lacked (thinking). */
  refresh(message) {
    if (this.thinking) this.thinking.finish(message.stats);
    const line = formatStats(message.stats);
    // Only a real change: a reload after every reply must not re-lay out every message.
    if (line && this.stats.textContent !== line) this.stats.textContent = line;
  }

  renderNote(status, error) {
    this.note.hidden = !FAILED.has(status);
    if (this.note.hidden) {
      this.note.replaceChildren();
      return;
    }
    const detail = error && typeof error === "object" ? error.message : error;
    // An error is shown as Ollama (or the app) worded it.
    const text = status === "error" && detail ? detail : NOTES[status];
    const label = status === "error" ? "Retry" : "Regenerate";
    this.note.replaceChildren(
      el(
        "span",
        { class: `note note-${status}`, "data-testid": "message-note" },
        icon(status === "cancelled" ? "stop" : "alert"),
        el("span", { text }),
      ),
      el(
        "span",
        { class: "note-actions" }, // together: on a phone they wrap below the text as one
        // The text so far is worth keeping: the model can carry it on (chat.continue).
        this.text.trim()
          ? noteButton("continue", "right", "Continue", "Continue: carry on writing this reply")
          : null,
        noteButton("regenerate", "refresh", label, `${label}: write this reply again`),
      ),
    );
  }
}

function noteButton(action, iconName, text, label) {
  return el(
    "button",
    {
      type: "button",
      class: "note-btn",
      "data-action": action,
      "data-needs-idle": "",
      "data-testid": `note-${action}`,
      "aria-label": label,
      title: label,
    },
    icon(iconName),
    el("span", { text }),
  );
}

/** A stored assistant message from `GET /api/conversations/ID`. */
export function storedAssistant(message, context = null, writer = "", endpoint = null) {
  const { id, model, status } = message;
  const view = new AssistantView({ id, model, endpoint, status, writer });
  view.setContext(context);
  const live = LIVE.has(message.status);
  // Still streaming (seen by polling): thinking is over once the answer has begun.
  const over = live && message.content ? { endedAt: 0 } : {};
  if (message.thinking) view.setThinking(message.thinking, over);
  if (live) {
    view.appendLive(message.content || "");
    if (!message.content) view.showTyping();
  } else {
    view.finish({
      content: message.content,
      status: message.status,
      stats: message.stats,
      error: message.error,
    });
  }
  return view;
}
