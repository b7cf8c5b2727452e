// The chat pane: loads a conversation, shows its active path (the branch on screen), sends
// messages; replies are played by streams.js, branch operations live in branches.js.
// (Just over 300 lines: the pane's state and its loading belong together.)
import { MessageActions } from "./actions.js";
import { Branches } from "./branches.js";
import { ConversationSettings } from "./convsettings.js";
import { showsMessage, storedAssistant, userMessage } from "./messages.js";
import { ListDrawer } from "./msglist.js";
import { ScrollFollower } from "./scroll.js";
import { RepliesInFlight } from "./replies.js";
import { Streams } from "./streams.js";
import { toast, toastError } from "./toast.js";
import { debounce, uuid } from "./util.js";
import { ConversationWatch } from "./watch.js";

const POLL_MS = 1500; // a reply streaming without us (after a socket drop): poll the store
const MAX_POLLS = 400;
const LIVE = new Set(["streaming", "pending"]);
const REPLY_FRAMES = ["start", "chunk", "complete", "cancelled", "error"];

export class Chat {
  /**
   * @param {{api, router: FrameRouter, getModel: () => string,
   *          getEndpoint: () => string, writerLabel: (model, endpointId) => string,
   *          chooseModel: (anchor, onPick, current) => void,
   *          onModelUsed: (model, endpointId) => void,
   *          onOpened, onCreated, onChanged, onReplyDone, onBusy, onRestore,
   *          onListClick}} o hooks into the rest of the app
   */
  constructor(o) {
    Object.assign(this, { api: o.api, getModel: o.getModel, getEndpoint: o.getEndpoint });
    this.writerLabel = o.writerLabel || ((model) => model || "");
    this.hooks = o;
    this.list = document.getElementById("messages-inner");
    this.drawer = new ListDrawer(this.list);
    this.watch = new ConversationWatch(o);
    this.currentId = null;
    this.conversation = null; // as last loaded: its settings and active path
    this.replies = new RepliesInFlight();
    this.contextNotes = new Map(); // message_id -> start.context with dropped > 0, until stored
    this.loadSeq = 0;
    this.polls = 0;
    this.pollTimer = null;
    this.scroll = new ScrollFollower(
      document.getElementById("messages"),
      document.getElementById("jump-latest"),
      this.list,
    );
    this.streams = new Streams(this);
    this.branches = new Branches(this);
    this.actions = new MessageActions(this.list, this.branches.handlers());
    this.settings = new ConversationSettings(this);
    this.list.addEventListener("click", (e) => this.hooks.onListClick(e));
    // The sidebar refresh: one for a burst of events (a reply's end, its title, a rename).
    this.listChanged = debounce(() => this.hooks.onReplyDone(this.currentId), 150);
    this.reloadSoon = debounce(() => this.reload(), 120);
    for (const type of REPLY_FRAMES) o.router.on(type, (frame) => this.streams.handle(frame));
    o.router.on("conversation.", (frame) => this.onConversationEvent(frame));
  }

  /** The conversation on screen (null: a new chat); whoever changes it, it is watched. */
  get currentId() {
    return this.shownId;
  }

  set currentId(id) {
    this.shownId = id;
    this.watch.show(id);
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
    this.branches.closeEditor();
    this.settings.close();
    if (!id) {
      this.conversation = null;
      this.drawer.cancel();
      this.list.replaceChildren(...this.liveViewsFor(null));
      this.busyChanged();
      this.hooks.onOpened(null);
      return true;
    }
    let conversation;
    try {
      conversation = await this.api.conversation(id);
    } catch (err) {
      if (seq !== this.loadSeq) return false;
      if (err.status === 404) toast("That conversation was not found. It may have been deleted.");
      else toastError("Couldn't open the conversation", err);
      return false;
    }
    if (seq !== this.loadSeq) return true;
    this.renderConversation(conversation);
    this.hooks.onOpened(conversation);
    this.scroll.toBottom(true);
    return true;
  }

  /** Show a conversation's active path, keeping the elements of messages already shown. */
  renderConversation(conversation) {
    this.conversation = conversation;
    const messages = (conversation.messages || []).filter((m) => m.role !== "system");
    const shown = new Map();
    for (const node of this.list.children) {
      if (node.dataset.messageId) shown.set(node.dataset.messageId, node);
    }
    const nodeFor = (m) => {
      const live = this.replies.ofMessage(m.id);
      if (live) {
        live.view ||= this.streams.viewFor(live);
        return live.view.element;
      }
      const kept = shown.get(m.id);
      if (kept && showsMessage(kept, m)) return kept;
      if (m.role === "user") return userMessage(m);
      // Replies stored before their endpoint was recorded: the conversation's is the guess.
      const endpoint = m.endpoint_id || conversation.endpoint_id;
      const context = this.contextNotes.get(m.id) ?? m.stats?.context;
      return storedAssistant(m, context, this.writerLabel(m.model, endpoint), endpoint).element;
    };
    this.drawer.show(messages, {
      nodeFor,
      tail: this.liveViewsFor(conversation.id, messages),
      done: (pairs) => this.decorate(messages, pairs),
    });
    this.actions.setBusy(this.isBusy());
    this.settings.reflect(conversation);
    const stale = messages.some((m) => LIVE.has(m.status) && !this.replies.hasMessage(m.id));
    if (stale) this.schedulePoll(conversation.id);
  }

  /**
   * Give finished messages ([message, element] pairs) their actions; Regenerate goes on the
   * newest reply of `messages`, the whole path.
   */
  decorate(messages, pairs) {
    const last = messages[messages.length - 1];
    const lastReply = last && last.role === "assistant" ? last.id : null;
    for (const [m, node] of pairs) {
      if (this.replies.hasMessage(m.id)) continue; // still streaming: actions once it ends
      this.actions.fill(node, m, { lastReply: m.id === lastReply });
    }
  }

  // Own sends not yet known to the server's store (no `start` yet) still belong on screen.
  liveViewsFor(conversationId, messages = []) {
    const known = new Set(messages.map((m) => m.id));
    const nodes = [];
    for (const s of this.replies.asking()) {
      if (s.conversationId !== conversationId || !s.userEl || known.has(s.userMessageId)) continue;
      nodes.push(s.userEl);
      if (s.view) nodes.push(s.view.element);
    }
    return nodes;
  }

  nodeOf(id) {
    if (!id) return null;
    return this.list.querySelector(`:scope > [data-message-id="${CSS.escape(id)}"]`);
  }

  /** Remove a message element and everything after it (a new branch replaces them). */
  truncateFrom(node) {
    while (node.nextElementSibling) node.nextElementSibling.remove();
    node.remove();
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

  /** Re-read the open conversation (fresh `siblings`, another window's change) when idle. */
  async reload() {
    const id = this.currentId;
    const seq = this.loadSeq;
    const idle = () => seq === this.loadSeq && !this.isBusy() && !this.branches.editing;
    if (!id || !idle()) return;
    let conversation;
    try {
      conversation = await this.api.conversation(id);
    } catch {
      return; // deleted meanwhile, or the app is away: the next event or open() fixes it
    }
    if (!idle()) return;
    const keep = this.scroll.stick;
    this.renderConversation(conversation);
    this.hooks.onChanged();
    if (keep) this.scroll.toBottom(true);
  }

  /**
   * Send a frame that starts a reply; its stream record, or null when it could not go out.
   * `choice` ({model, endpoint}): another model than the picker's, for this reply; null
   * (a continued reply): the model that wrote it, chosen by the backend.
   */
  request(type, fields, choice = undefined) {
    const picked = { model: this.getModel(), endpoint: this.getEndpoint() };
    const { model, endpoint } = choice === undefined ? picked : choice || {};
    const requestId = uuid();
    // auto_title: after a first exchange the backend asks the model for a title (it does
    // that only for clients that ask, so API scripts pay for no extra model call).
    const frame = { type, request_id: requestId, auto_title: true, ...fields };
    if (model) Object.assign(frame, { model, endpoint_id: endpoint });
    if (!this.api.send(frame)) {
      toast("Not connected to the app yet — try again in a moment.");
      return null;
    }
    const stream = {
      requestId,
      conversationId: this.currentId,
      model,
      endpoint,
      own: true,
      text: "",
      thinking: "",
      view: null,
      userEl: null,
      messageId: null,
      cancelAsked: false,
    };
    this.replies.asked(stream);
    return stream;
  }

  /** Send a message (with images: [{id, name}]); false (and the composer keeps the text)
   * when it could not go out. */
  send(content, images = []) {
    if (!this.getModel()) return false;
    const fields = { conversation_id: this.currentId, content };
    if (images.length) fields.images = images.map((image) => image.id);
    const s = this.request("chat.send", fields);
    if (!s) return false;
    this.branches.closeEditor();
    Object.assign(s, {
      kind: "send",
      content,
      images,
      userEl: userMessage({ content, status: "pending", images }),
    });
    this.list.append(s.userEl);
    this.hooks.onChanged();
    this.scroll.toBottom(true);
    this.busyChanged();
    return true;
  }

  /** The stream of our own reply in the open conversation, if one is running. */
  activeStream() {
    for (const s of this.replies.asking()) {
      if (s.conversationId === this.currentId) return s;
    }
    return null;
  }

  /** A reply (ours or another window's) streams in the open conversation. */
  isBusy() {
    if (this.activeStream()) return true;
    for (const s of this.replies.streaming()) if (s.conversationId === this.currentId) return true;
    return false;
  }

  busyChanged() {
    this.actions.setBusy(this.isBusy());
    this.hooks.onBusy();
  }

  stop() {
    const s = this.activeStream();
    if (!s) return;
    s.cancelAsked = true;
    if (s.messageId) this.api.send({ type: "chat.cancel", message_id: s.messageId });
  }

  /**
   * `conversation.*` frames: for the open conversation the header title follows at once (a
   * model-written title) and the path is read again (another window's change).
   */
  onConversationEvent(frame) {
    const c = frame.conversation || {};
    if (frame.type !== "conversation.updated" || !this.currentId || c.id !== this.currentId) return;
    if (typeof c.title === "string" && c.title) this.showTitle(c.title);
    this.reloadSoon();
  }

  showTitle(title) {
    const header = document.getElementById("chat-title");
    header.textContent = title;
    header.title = title;
    document.title = `${title} — CloudToLocalLLM`;
    if (this.conversation) this.conversation.title = title;
  }

  /** The socket came back: frames of running replies were lost, so read them from the store. */
  resync() {
    const hadStreams = !this.replies.isEmpty();
    for (const s of this.replies.asking()) {
      if (!s.messageId && s.kind === "send") {
        s.userEl.dataset.status = "error";
        this.hooks.onRestore(s.content, s.images);
      }
    }
    this.replies.clear();
    this.busyChanged();
    if (hadStreams && this.currentId) this.open(this.currentId);
  }
}
