// The chat pane: loads a conversation, sends messages and plays replies as they stream.
import { AssistantView, storedAssistant, userMessage } from "./messages.js";
import { ScrollFollower } from "./scroll.js";
import { toast, toastError } from "./toast.js";
import { el, icon, uuid } from "./util.js";

const POLL_MS = 1500; // a reply streaming without us (after a socket drop): poll the store
const MAX_POLLS = 400;

export class Chat {
  /**
   * @param {{api, socket, getModel: () => string, onOpened, onCreated, onChanged, onReplyDone,
   *          onBusy, onRestore, onListClick}} o hooks into the rest of the app (see main.js)
   */
  constructor(o) {
    Object.assign(this, { api: o.api, socket: o.socket, getModel: o.getModel });
    this.hooks = o;
    this.list = document.getElementById("messages-inner");
    this.currentId = null;
    this.byRequest = new Map(); // request_id -> stream, for our own sends
    this.byMessage = new Map(); // message_id -> stream, once `start` has named it
    this.dirty = new Set();
    this.frameRequested = false;
    this.loadSeq = 0;
    this.polls = 0;
    this.pollTimer = null;
    this.scroll = new ScrollFollower(
      document.getElementById("messages"),
      document.getElementById("jump-latest"),
    );
    this.list.addEventListener("click", (e) => this.hooks.onListClick(e));
  }

  hasMessages() {
    return this.list.childElementCount > 0;
  }

  /** Open a conversation (null: a new, empty chat). Resolves false when it does not exist. */
  async open(id) {
    const seq = ++this.loadSeq;
    clearTimeout(this.pollTimer);
    this.polls = 0;
    this.currentId = id;
    if (!id) {
      this.list.replaceChildren(...this.liveViewsFor(null));
      this.hooks.onOpened(null);
      return true;
    }
    let conversation;
    try {
      conversation = await this.api.conversation(id);
    } catch (err) {
      if (seq !== this.loadSeq) return false;
      if (err.status !== 404) toastError("Couldn't open the conversation", err);
      return false;
    }
    if (seq !== this.loadSeq) return true;
    this.renderConversation(conversation);
    this.hooks.onOpened(conversation);
    this.scroll.toBottom(true);
    return true;
  }

  renderConversation(conversation) {
    const nodes = [];
    let stale = false;
    for (const message of conversation.messages || []) {
      if (message.role === "user") nodes.push(userMessage(message));
      else if (message.role === "assistant") {
        const live = this.byMessage.get(message.id);
        if (live) {
          live.view = this.viewFor(live);
          nodes.push(live.view.element);
          continue;
        }
        stale ||= message.status === "streaming" || message.status === "pending";
        nodes.push(storedAssistant(message).element);
      }
    }
    this.list.replaceChildren(
      ...nodes,
      ...this.liveViewsFor(conversation.id, conversation.messages),
    );
    if (stale) this.schedulePoll(conversation.id);
  }

  // Own sends not yet known to the server's store (no `start` yet) still belong on screen.
  liveViewsFor(conversationId, messages = []) {
    const known = new Set(messages.map((m) => m.id));
    const nodes = [];
    for (const s of this.byRequest.values()) {
      if (s.conversationId !== conversationId || known.has(s.userMessageId)) continue;
      nodes.push(s.userEl);
      if (s.view) nodes.push(s.view.element);
    }
    return nodes;
  }

  schedulePoll(id) {
    if (this.polls >= MAX_POLLS) return;
    this.polls += 1;
    this.pollTimer = setTimeout(async () => {
      if (this.currentId !== id) return;
      const keep = this.scroll.stick;
      try {
        this.renderConversation(await this.api.conversation(id));
        if (keep) this.scroll.toBottom(true);
      } catch {
        this.schedulePoll(id);
      }
    }, POLL_MS);
  }

  /** Send a message; false (and the composer keeps the text) when it could not go out. */
  send(content) {
    const model = this.getModel();
    if (!model) return false;
    const requestId = uuid();
    const frame = {
      type: "chat.send",
      request_id: requestId,
      conversation_id: this.currentId,
      content,
      model,
    };
    if (!this.socket.send(frame)) {
      toast("Not connected to the app yet — your message is still in the box.");
      return false;
    }
    const userEl = userMessage({ content, status: "pending" });
    const stream = {
      requestId,
      conversationId: this.currentId,
      content,
      userEl,
      model,
      own: true,
      text: "",
      thinking: "",
      view: null,
      messageId: null,
      cancelAsked: false,
    };
    this.byRequest.set(requestId, stream);
    this.list.append(userEl);
    this.hooks.onChanged();
    this.scroll.toBottom(true);
    this.hooks.onBusy();
    return true;
  }

  /** The stream of our own reply in the open conversation, if one is running. */
  activeStream() {
    for (const s of this.byRequest.values()) {
      if (s.conversationId === this.currentId) return s;
    }
    return null;
  }

  stop() {
    const s = this.activeStream();
    if (!s) return;
    s.cancelAsked = true;
    if (s.messageId) this.socket.send({ type: "chat.cancel", message_id: s.messageId });
  }

  handleFrame(frame) {
    if (frame.type === "start") this.onStart(frame);
    else if (frame.type === "chunk") this.onChunk(frame);
    else if (frame.type === "complete") this.onFinal(frame, "complete");
    else if (frame.type === "cancelled") this.onFinal(frame, "cancelled");
    else if (frame.type === "error") this.onError(frame);
  }

  onStart(frame) {
    let s = this.byRequest.get(frame.request_id);
    if (!s) {
      // Another window's reply in the conversation we show: reload to get its user message,
      // and the reply is then followed live like our own.
      if (frame.conversation_id !== this.currentId) return;
      s = { own: false, text: "", thinking: "", messageId: frame.message_id, model: frame.model };
      s.conversationId = frame.conversation_id;
      this.byMessage.set(s.messageId, s);
      s.view = this.viewFor(s);
      this.open(this.currentId);
      return;
    }
    Object.assign(s, {
      messageId: frame.message_id,
      userMessageId: frame.user_message_id,
      model: frame.model || s.model,
    });
    const wasNew = s.own && s.conversationId === null;
    s.conversationId = frame.conversation_id;
    this.byMessage.set(s.messageId, s);
    if (s.userEl) {
      s.userEl.dataset.messageId = frame.user_message_id || "";
      s.userEl.dataset.status = "complete";
    }
    if (wasNew) {
      // Follow the new conversation unless the user has moved on to another one meanwhile.
      const adopt = this.currentId === null && this.list.contains(s.userEl);
      if (adopt) this.currentId = s.conversationId;
      this.hooks.onCreated(s.conversationId, adopt);
    }
    s.view = this.viewFor(s);
    if (s.conversationId === this.currentId && !this.list.contains(s.view.element)) {
      this.list.append(s.view.element);
      this.scroll.follow();
    }
    if (s.cancelAsked) this.socket.send({ type: "chat.cancel", message_id: s.messageId });
    this.hooks.onBusy();
  }

  viewFor(s) {
    const view = new AssistantView({ id: s.messageId, model: s.model, status: "streaming" });
    if (s.text) view.renderLive(s.text);
    else view.showTyping();
    view.setThinking(s.thinking);
    return view;
  }

  onChunk(frame) {
    const s = this.byMessage.get(frame.message_id);
    if (!s) return;
    if (typeof frame.delta === "string") s.text += frame.delta;
    if (typeof frame.thinking === "string") s.thinking += frame.thinking;
    this.dirty.add(s);
    if (!this.frameRequested) {
      this.frameRequested = true;
      requestAnimationFrame(() => this.flush());
    }
  }

  /** At most one Markdown render per stream per animation frame, however many chunks came. */
  flush() {
    this.frameRequested = false;
    for (const s of this.dirty) {
      if (!s.view) continue;
      s.view.setThinking(s.thinking);
      if (s.text) s.view.renderLive(s.text);
    }
    this.dirty.clear();
    this.scroll.follow();
  }

  onFinal(frame, status) {
    const s = this.byMessage.get(frame.message_id);
    if (!s) return;
    this.dirty.delete(s);
    const content = typeof frame.content === "string" ? frame.content : s.text;
    s.view.finish({ content, status, stats: frame.stats, error: frame.message });
    this.forget(s);
    this.scroll.follow();
    this.hooks.onReplyDone(s.conversationId);
  }

  onError(frame) {
    if (frame.message_id) {
      // A reply that failed; one we don't follow (lost, another window's) is not ours to report.
      if (this.byMessage.has(frame.message_id)) this.onFinal(frame, "error");
      return;
    }
    const s = frame.request_id ? this.byRequest.get(frame.request_id) : null;
    if (!s) {
      toast(frame.message || "The app reported an error.");
      return;
    }
    // Refused before a reply started: say so on the message and give the text back.
    s.userEl.dataset.status = "error";
    s.userEl.append(
      el(
        "div",
        { class: "note note-error", "data-testid": "message-note" },
        icon("alert"),
        el("span", { text: `Not sent: ${frame.message || frame.code}` }),
      ),
    );
    this.forget(s);
    this.hooks.onRestore(s.content);
    this.hooks.onReplyDone(s.conversationId);
  }

  forget(s) {
    if (s.requestId) this.byRequest.delete(s.requestId);
    if (s.messageId) this.byMessage.delete(s.messageId);
    this.hooks.onBusy();
  }

  /** The socket came back: frames of running replies were lost, so read them from the store. */
  resync() {
    const hadStreams = this.byRequest.size > 0 || this.byMessage.size > 0;
    for (const s of this.byRequest.values()) {
      if (!s.messageId) {
        s.userEl.dataset.status = "error";
        this.hooks.onRestore(s.content);
      }
    }
    this.byRequest.clear();
    this.byMessage.clear();
    this.hooks.onBusy();
    if (hadStreams && this.currentId) this.open(this.currentId);
  }
}
