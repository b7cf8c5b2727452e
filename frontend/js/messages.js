// Message bubbles: user text, assistant Markdown (streaming or final), notes and stats.
import { MarkdownStream, renderMarkdown } from "./render.js";
import { el, fullTime, icon } from "./util.js";

const NOTES = {
  cancelled: "Stopped",
  interrupted: "Interrupted — the app closed before this reply finished",
  error: "Something went wrong",
};

export function userMessage(message) {
  const body = el("div", { class: "bubble user-text", "data-testid": "message-content" });
  body.textContent = message.content; // plain text: CSS keeps the newlines (pre-wrap)
  return el(
    "article",
    {
      class: "message user",
      "data-testid": "message",
      "data-role": "user",
      "data-status": message.status || "complete",
      "data-message-id": message.id || null,
      title: message.created_at ? fullTime(message.created_at) : null,
    },
    body,
  );
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

const views = new WeakMap();

/** The Markdown source of a rendered assistant message (for "Copy reply"). */
export function rawTextOf(article) {
  const view = views.get(article);
  return view ? view.text : article.innerText;
}

/** One assistant reply: a live view while streaming, then a final rendering. */
export class AssistantView {
  constructor({ id = null, model = "", status = "streaming" } = {}) {
    this.body = el("div", { class: "markdown", "data-testid": "message-content" });
    this.footer = el("div", { class: "message-footer" });
    this.copyBtn = el(
      "button",
      {
        type: "button",
        class: "msg-action",
        "data-testid": "message-copy",
        "aria-label": "Copy reply",
        title: "Copy reply",
      },
      icon("copy"),
    );
    this.element = el(
      "article",
      {
        class: "message assistant",
        "data-testid": "message",
        "data-role": "assistant",
        "data-status": status,
        "data-message-id": id,
        "data-model": model || null,
        // Screen readers wait for a busy region: announce the reply once, not every token.
        "aria-busy": status === "streaming" || status === "pending" ? "true" : null,
      },
      el("div", { class: "bubble" }, this.body),
      this.footer,
    );
    this.stream = null;
    this.thinking = null;
    this.text = "";
    views.set(this.element, this);
  }

  setStatus(status) {
    this.element.dataset.status = status;
    if (status === "streaming" || status === "pending")
      this.element.setAttribute("aria-busy", "true");
    else this.element.removeAttribute("aria-busy");
  }

  setId(id) {
    if (id) this.element.dataset.messageId = id;
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

  /** Render the streamed text so far (called at most once per animation frame). */
  renderLive(text) {
    if (!this.stream) {
      this.body.replaceChildren();
      this.stream = new MarkdownStream(this.body);
    }
    this.text = text;
    if (text) this.stream.update(text);
  }

  setThinking(text) {
    if (!text) return;
    if (!this.thinking) {
      this.thinkingBody = el("div", { class: "thinking-body" });
      this.thinkingLabel = el("span", { text: "Thinking…" });
      this.thinking = el(
        "details",
        { class: "thinking", "data-testid": "thinking" },
        el("summary", {}, this.thinkingLabel),
        this.thinkingBody,
      );
      this.element.querySelector(".bubble").before(this.thinking);
    }
    this.thinkingBody.textContent = text; // untrusted and often half-formed: plain text
  }

  /** Final text, stats, a note for a non-complete status and the actions row. */
  finish({ content, status, stats = null, error = null }) {
    this.text = content || "";
    this.setStatus(status);
    if (this.thinking) this.thinkingLabel.textContent = "Thoughts";
    if (this.stream) this.stream.finish(this.text);
    else renderMarkdown(this.body, this.text);
    if (!this.text && status !== "complete") this.body.replaceChildren();
    this.body.classList.toggle("is-empty", !this.text);
    this.renderFooter(status, stats, error);
  }

  renderFooter(status, stats, error) {
    this.footer.replaceChildren();
    if (status === "error" || status === "cancelled" || status === "interrupted") {
      const detail = error && typeof error === "object" ? error.message : error;
      const text = status === "error" && detail ? detail : NOTES[status];
      this.footer.append(
        el(
          "span",
          { class: `note note-${status}`, "data-testid": "message-note" },
          icon(status === "cancelled" ? "stop" : "alert"),
          el("span", { text }),
        ),
      );
    }
    const line = formatStats(stats);
    if (line)
      this.footer.append(
        el("span", { class: "stats", "data-testid": "message-stats", text: line }),
      );
    if (this.text) this.footer.append(this.copyBtn);
  }
}

/** A stored assistant message from `GET /api/conversations/ID`. */
export function storedAssistant(message) {
  const view = new AssistantView({ id: message.id, model: message.model, status: message.status });
  if (message.status === "streaming" || message.status === "pending") {
    view.renderLive(message.content || "");
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
