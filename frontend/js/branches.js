// Branch operations: regenerate a reply, edit a message of the user's, switch versions,
// delete a message. New versions stream in place of the old ones, which stay as alternatives.
import { announce } from "./announce.js";
import { openEditor } from "./editor.js";
import { AssistantView, imagesOf, rawTextOf, userMessage } from "./messages.js";
import { toast, toastError } from "./toast.js";

export class Branches {
  constructor(chat) {
    this.chat = chat;
    this.editing = null; // {close, article} while a message is being edited
  }

  /** The callbacks of the per-message actions. */
  handlers() {
    return {
      regenerate: (id) => this.regenerate(id),
      regenerateWith: (id, anchor) => {
        const reply = anchor.closest("article.message");
        const writer = { model: reply.dataset.model, endpoint: reply.dataset.endpoint || "ollama" };
        this.chat.hooks.chooseModel(anchor, (choice) => this.regenerate(id, choice), writer);
      },
      continueReply: (id) => this.continueReply(id),
      edit: (id) => this.startEdit(id),
      activate: (id, action, article) => this.activate(id, action, article),
      remove: (id) => this.remove(id),
    };
  }

  /** A new version of a reply, streamed where the old one was; `choice` ({model, endpoint}):
   * by another model than the picker's. */
  regenerate(messageId, choice = undefined) {
    const chat = this.chat;
    const node = chat.nodeOf(messageId);
    if (!node || chat.isBusy()) return false;
    const s = chat.request("chat.regenerate", { message_id: messageId }, choice);
    if (!s) return false;
    this.closeEditor();
    Object.assign(s, { kind: "regenerate", siblingOf: messageId, chosen: Boolean(choice) });
    chat.truncateFrom(node);
    const writer = chat.writerLabel(s.model, s.endpoint);
    s.view = new AssistantView({ model: s.model, status: "streaming", writer });
    s.view.showTyping();
    chat.list.append(s.view.element);
    chat.scroll.toBottom(true);
    chat.busyChanged();
    return true;
  }

  /** Carry on a reply that stopped early: the model that wrote it writes on, in place. */
  continueReply(messageId) {
    const chat = this.chat;
    const node = chat.nodeOf(messageId);
    if (!node || chat.isBusy() || node.nextElementSibling) return false;
    const stored = (chat.conversation?.messages || []).find((m) => m.id === messageId) || {};
    const s = chat.request("chat.continue", { message_id: messageId }, null);
    if (!s) return false;
    this.closeEditor();
    const text = rawTextOf(node);
    const thinking = stored.thinking || "";
    const endpoint = stored.endpoint_id || chat.conversation?.endpoint_id;
    Object.assign(s, { kind: "continue", model: stored.model, endpoint, text, thinking });
    s.repeat = { text, thinking }; // the first chunk says it again (protocol-chat.md, 6)
    s.view = new AssistantView({
      id: messageId,
      model: stored.model,
      endpoint,
      status: "streaming",
      writer: chat.writerLabel(stored.model, endpoint),
    });
    s.view.setThinking(thinking, { endedAt: 0 });
    s.view.appendLive(text);
    node.replaceWith(s.view.element);
    chat.scroll.toBottom(true);
    chat.busyChanged();
    announce("Continuing the reply");
    return true;
  }

  /** Send an edited copy of a user message; it and its reply replace the old path on screen. */
  edit(messageId, content) {
    const chat = this.chat;
    const node = chat.nodeOf(messageId);
    if (!node || chat.isBusy()) return false;
    const s = chat.request("chat.edit", { message_id: messageId, content });
    if (!s) return false;
    this.closeEditor({ restoreFocus: false });
    Object.assign(s, { kind: "edit", siblingOf: messageId, content });
    const images = imagesOf(node); // the backend keeps them on the edited copy too
    chat.truncateFrom(node);
    s.userEl = userMessage({ content, status: "pending", images });
    chat.list.append(s.userEl);
    chat.scroll.toBottom(true);
    chat.busyChanged();
    // The editor is gone: keep the keyboard in the chat (Esc stops the reply from there).
    document.getElementById("composer-input").focus({ preventScroll: true });
    return true;
  }

  /** A regenerate or edit the backend refused (busy, unknown model…): put the path back. */
  async refused(s, frame) {
    toast(frame.message || frame.code || "The app refused the request.");
    await this.chat.reload();
    if (s.kind === "edit") this.startEdit(s.siblingOf, s.content); // the typed text is kept
  }

  startEdit(messageId, text = null) {
    const chat = this.chat;
    const node = chat.nodeOf(messageId);
    if (!node || node.dataset.role !== "user" || chat.isBusy()) return false;
    this.closeEditor({ restoreFocus: false });
    const returnTo = document.activeElement;
    const editing = openEditor(node, {
      text: text ?? rawTextOf(node),
      onSave: (value) => this.edit(messageId, value),
      onClose: ({ refocus }) => {
        if (this.editing === editing) this.editing = null;
        // Back where the edit began: the Edit button, or the composer (Up).
        const back = returnTo && returnTo.isConnected && returnTo !== document.body;
        if (refocus) (back ? returnTo : document.getElementById("composer-input")).focus();
      },
    });
    this.editing = editing;
    return true;
  }

  /** Up in an empty composer: edit the last message of the user's. */
  editLast() {
    const users = this.chat.list.querySelectorAll(
      ":scope > article[data-role=user][data-message-id]",
    );
    const last = users[users.length - 1];
    return last ? this.startEdit(last.dataset.messageId) : false;
  }

  closeEditor({ restoreFocus = true } = {}) {
    if (this.editing) this.editing.close({ restoreFocus });
    this.editing = null;
  }

  /** Show another version; the clicked message stays where it was on screen. */
  async activate(targetId, action, article) {
    const chat = this.chat;
    if (chat.isBusy()) return;
    let conversation;
    try {
      conversation = await chat.api.activateMessage(targetId);
    } catch (err) {
      toastError("Couldn't switch versions", err);
      return;
    }
    if (conversation.id !== chat.currentId) return;
    this.closeEditor({ restoreFocus: false });
    const top = article && article.isConnected ? article.getBoundingClientRect().top : null;
    const hadFocus = article && article.contains(document.activeElement);
    chat.renderConversation(conversation);
    chat.hooks.onChanged();
    const node = chat.nodeOf(targetId);
    if (!node) return;
    if (top !== null) {
      chat.scroll.release(); // the clicked message stays put, not the bottom of the list
      chat.scroll.scroller.scrollTop += node.getBoundingClientRect().top - top;
    }
    const count = node.querySelector("[data-testid=branch-pager]");
    if (count) announce(`Version ${count.textContent}`);
    if (hadFocus) {
      const again = node.querySelector(`[data-action=${action}]`);
      const other = node.querySelector(`[data-action=${action === "prev" ? "next" : "prev"}]`);
      const target = again && !again.disabled ? again : other;
      if (target) target.focus({ preventScroll: true });
    }
  }

  /** Delete a message and everything below it (the backend moves the path to what is left). */
  async remove(messageId) {
    const chat = this.chat;
    let conversation;
    try {
      conversation = await chat.api.deleteMessage(messageId);
    } catch (err) {
      toastError("Couldn't delete", err);
      if (err.status === 404) chat.reload();
      return;
    }
    if (conversation.id !== chat.currentId) return;
    this.closeEditor({ restoreFocus: false });
    chat.renderConversation(conversation);
    chat.hooks.onChanged();
    chat.listChanged();
    announce("Deleted");
  }
}
