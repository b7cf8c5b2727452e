// Plays the frames of replies (start, chunk…, complete | cancelled | error) into the chat pane.
import { announce } from "./announce.js";
import { AssistantView } from "./messages.js";
import { toast } from "./toast.js";
import { icon } from "./icons.js";
import { el } from "./util.js";

// A render is a frame's style, layout and paint of the open block, whatever its size: at
// 200 tok/s and 60 Hz that is most of the cost of a reply. Three frames between renders make
// the text move ~20 times a second (smooth for reading) at a third of the cost.
const RENDER_EVERY_MS = 50;
const OVERDUE_MS = 24; // a render is this late (frames wait while messages keep coming): now

function thinkingTimes(s) {
  return { startedAt: s.thinkStart ?? null, endedAt: s.thinkEnd ?? null };
}

export class Streams {
  constructor(chat) {
    this.chat = chat;
    this.dirty = new Set();
    this.renderAsked = false;
    this.dueAt = 0; // when the render asked for should happen (performance.now())
    this.lastRender = -Infinity;
  }

  handle(frame) {
    if (frame.type === "start") this.onStart(frame);
    else if (frame.type === "chunk") this.onChunk(frame);
    else if (frame.type === "complete") this.onFinal(frame, "complete");
    else if (frame.type === "cancelled") this.onFinal(frame, "cancelled");
    else if (frame.type === "error") this.onError(frame);
  }

  onStart(frame) {
    const chat = this.chat;
    if (frame.context && frame.context.dropped > 0) {
      chat.contextNotes.set(frame.message_id, frame.context);
    }
    let s = chat.replies.ofRequest(frame.request_id);
    if (!s) {
      // Another window's reply in the conversation we show: reload to get its path, and the
      // reply is then followed live like our own.
      if (frame.conversation_id !== chat.currentId) return;
      s = { own: false, text: "", thinking: "", messageId: frame.message_id, model: frame.model };
      s.endpoint = frame.endpoint_id;
      s.conversationId = frame.conversation_id;
      s.context = frame.context;
      chat.replies.named(s);
      s.view = this.viewFor(s);
      chat.busyChanged();
      chat.open(chat.currentId);
      return;
    }
    Object.assign(s, {
      messageId: frame.message_id,
      userMessageId: frame.user_message_id,
      model: frame.model || s.model,
      endpoint: frame.endpoint_id || s.endpoint,
      context: frame.context,
    });
    const wasNew = s.kind === "send" && s.conversationId === null;
    s.conversationId = frame.conversation_id;
    chat.replies.named(s);
    if (s.userEl) {
      s.userEl.dataset.messageId = frame.user_message_id || "";
      s.userEl.dataset.status = "complete";
    }
    if (wasNew) {
      // Follow the new conversation unless the user has moved on to another one meanwhile.
      const adopt = chat.currentId === null && chat.list.contains(s.userEl);
      if (adopt) chat.currentId = s.conversationId;
      chat.hooks.onCreated(s.conversationId, adopt);
    }
    if (s.view) {
      // A regenerate's placeholder, shown since the request went out.
      s.view.setId(s.messageId);
      s.view.setContext(s.context);
      s.view.setWriter(chat.writerLabel(s.model, s.endpoint), s.model, s.endpoint);
    } else s.view = this.viewFor(s);
    // Regenerated with another model: the conversation's model now (the header follows).
    if (s.chosen && s.conversationId === chat.currentId) {
      chat.hooks.onModelUsed(s.model, s.endpoint);
    }
    if (s.conversationId === chat.currentId && !chat.list.contains(s.view.element)) {
      chat.list.append(s.view.element);
      chat.scroll.follow();
    }
    if (s.cancelAsked) chat.api.send({ type: "chat.cancel", message_id: s.messageId });
    chat.busyChanged();
  }

  viewFor(s) {
    const writer = this.chat.writerLabel(s.model, s.endpoint);
    const { messageId: id, model, endpoint } = s;
    const view = new AssistantView({ id, model, endpoint, status: "streaming", writer });
    view.setContext(s.context);
    view.setThinking(s.thinking, thinkingTimes(s));
    if (s.text) view.appendLive(s.text);
    else view.showTyping();
    s.unrendered = "";
    return view;
  }

  onChunk(frame) {
    const s = this.chat.replies.ofMessage(frame.message_id);
    if (!s) return;
    if (s.repeat) frame = this.withoutRepeat(s, frame);
    if (typeof frame.thinking === "string" && frame.thinking) {
      s.thinking += frame.thinking;
      s.thinkStart ??= performance.now();
    }
    if (typeof frame.delta === "string" && frame.delta) {
      s.text += frame.delta;
      s.unrendered = (s.unrendered ?? "") + frame.delta; // what the next render adds
      if (s.thinkStart != null) s.thinkEnd ??= performance.now();
    }
    this.dirty.add(s);
    this.askRender();
    // Frames wait while the socket's messages keep coming (a reply arriving as fast as it
    // can): render in the message's task then, so that what is left for the end stays small.
    if (performance.now() - this.dueAt > OVERDUE_MS) this.flush();
  }

  /**
   * A continued reply's first chunk repeats the text (and thinking) that its view shows
   * already: only what follows is new. Should the view show something else, it starts over.
   */
  withoutRepeat(s, frame) {
    const { text, thinking } = s.repeat;
    s.repeat = null;
    const delta = frame.delta || "";
    const thought = frame.thinking || "";
    if (delta.startsWith(text) && thought.startsWith(thinking)) {
      const rest = { delta: delta.slice(text.length), thinking: thought.slice(thinking.length) };
      return { ...frame, ...rest };
    }
    Object.assign(s, { text: "", thinking: "" });
    const shown = s.view.element;
    s.view = this.viewFor(s);
    shown.replaceWith(s.view.element);
    return frame;
  }

  // The next render in the first frame RENDER_EVERY_MS after the last one.
  askRender() {
    if (this.renderAsked) return;
    this.renderAsked = true;
    const now = performance.now();
    const wait = Math.max(0, this.lastRender + RENDER_EVERY_MS - now);
    this.dueAt = now + wait;
    const inFrame = () =>
      requestAnimationFrame(() => {
        this.renderAsked = false;
        this.flush();
      });
    if (wait > 0) setTimeout(inFrame, wait);
    else inFrame();
  }

  /** One Markdown render per stream per paced frame (or late one), however many chunks came. */
  flush() {
    if (!this.dirty.size) return;
    this.lastRender = performance.now();
    for (const s of this.dirty) {
      if (!s.view) continue;
      s.view.setThinking(s.thinking, thinkingTimes(s));
      if (s.unrendered) s.view.appendLive(s.unrendered);
      s.unrendered = "";
    }
    this.dirty.clear();
    this.chat.scroll.follow();
  }

  onFinal(frame, status) {
    const chat = this.chat;
    const s = chat.replies.ofMessage(frame.message_id);
    if (!s) return;
    this.dirty.delete(s);
    const content = typeof frame.content === "string" ? frame.content : s.text;
    if (s.thinking) s.view.setThinking(s.thinking, thinkingTimes(s));
    s.view.finish({
      content,
      status,
      stats: frame.stats,
      error: frame.message,
      thinkingTimes: thinkingTimes(s),
    });
    this.forget(s);
    const said = { complete: "Reply complete", cancelled: "Reply stopped" };
    announce(said[status] || `Reply failed: ${frame.message || frame.code || "error"}`);
    if (s.conversationId === chat.currentId) {
      this.decorateEnded(s, status);
      chat.scroll.follow();
      chat.reloadSoon(); // fresh `siblings` (a new version's pager)
    }
    chat.listChanged();
  }

  /** A reply just ended: its actions at once, from what the frames said. */
  decorateEnded(s, status) {
    const { actions } = this.chat;
    const reply = s.view.element;
    const last = !reply.nextElementSibling;
    actions.fill(reply, { id: s.messageId, role: "assistant", status }, { lastReply: last });
    if (s.userEl && s.userMessageId) {
      actions.fill(s.userEl, { id: s.userMessageId, role: "user", status: "complete" });
    }
  }

  onError(frame) {
    const chat = this.chat;
    if (frame.message_id) {
      // A reply that failed; one we don't follow (lost, another window's) is not ours to report.
      if (chat.replies.hasMessage(frame.message_id)) this.onFinal(frame, "error");
      return;
    }
    const s = frame.request_id ? chat.replies.ofRequest(frame.request_id) : null;
    if (!s) {
      toast(frame.message || "The app reported an error.");
      return;
    }
    this.forget(s);
    if (s.kind === "send") this.notSent(s, frame);
    else chat.branches.refused(s, frame);
  }

  /** A message refused before a reply started: say so on it and give the text back. */
  notSent(s, frame) {
    s.userEl.dataset.status = "error";
    s.userEl.append(
      el(
        "div",
        { class: "note note-error", "data-testid": "message-note" },
        icon("alert"),
        el("span", { text: `Not sent: ${frame.message || frame.code}` }),
      ),
    );
    this.chat.hooks.onRestore(s.content, s.images);
    this.chat.listChanged();
  }

  forget(s) {
    this.chat.replies.forget(s);
    this.chat.busyChanged();
  }
}
