// "Chat settings": a popover under the chat header's button that edits the open conversation's
// model, system prompt, thinking and options (PATCH /api/conversations/ID). In a new chat,
// saving creates the conversation, so a system prompt applies from the first message.
import { announce } from "./announce.js";
import { buildForm, errorsFromServer, readForm, showErrors } from "./convform.js";
import { icon } from "./icons.js";
import { toast } from "./toast.js";
import { el } from "./util.js";

/** Whether a conversation has settings of its own (the button then shows a dot). */
function customised(c) {
  if (!c) return false;
  const think = c.think === true || c.think === false;
  return Boolean(c.system_prompt) || think || Object.keys(c.options || {}).length > 0;
}

export class ConversationSettings {
  constructor(chat) {
    this.chat = chat;
    this.button = document.getElementById("chat-settings-btn");
    this.panel = null;
    this.controls = null;
    this.saving = false;
    if (!this.button) return; // a page without the header button: no panel to offer
    this.button.addEventListener("click", () => (this.panel ? this.close() : this.open()));
    // A click elsewhere closes the popover (like a menu); what was typed is not saved.
    document.addEventListener("pointerdown", (e) => {
      if (this.panel && !this.panel.contains(e.target) && !this.button.contains(e.target)) {
        this.close({ restoreFocus: false });
      }
    });
  }

  /** Mark the header button when the conversation has settings of its own. */
  reflect(conversation) {
    if (this.button) this.button.dataset.custom = customised(conversation) ? "true" : "false";
  }

  /** Open with the conversation's settings as stored now (another window may have changed them). */
  async open() {
    const id = this.chat.currentId;
    let conversation = this.chat.conversation;
    if (id) {
      try {
        conversation = await this.chat.api.conversation(id);
      } catch {
        // Offline for a moment: what was loaded last is close enough to edit.
      }
      if (id !== this.chat.currentId || this.panel) return;
    }
    this.build(id ? conversation : null);
  }

  build(conversation) {
    const { body, controls } = buildForm(conversation);
    this.controls = controls;
    const save = el(
      "button",
      { type: "submit", class: "cs-btn cs-primary", "data-testid": "chat-settings-save" },
      "Save",
    );
    const cancel = el(
      "button",
      { type: "button", class: "cs-btn", "data-testid": "chat-settings-cancel" },
      "Cancel",
    );
    const reset = el(
      "button",
      {
        type: "button",
        class: "cs-link",
        "data-testid": "chat-settings-reset",
        title: "Clear every field: the model's defaults (Save to apply)",
      },
      "Reset to defaults",
    );
    const close = el(
      "button",
      { type: "button", class: "icon-btn", "aria-label": "Close chat settings" },
      icon("close"),
    );
    const form = el(
      "form",
      { class: "cs-form", novalidate: true },
      body,
      el("footer", { class: "cs-foot" }, reset, el("span", { class: "cs-spacer" }), cancel, save),
    );
    this.panel = el(
      "section",
      {
        class: "chat-settings",
        id: "chat-settings",
        role: "dialog",
        "aria-labelledby": "chat-settings-title",
        "data-testid": "chat-settings",
      },
      el(
        "header",
        { class: "cs-head" },
        el("h2", { id: "chat-settings-title", text: "Chat settings" }),
        el("span", { class: "cs-sub", text: conversation ? "This conversation" : "New chat" }),
        close,
      ),
      form,
    );
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.save();
    });
    cancel.addEventListener("click", () => this.close());
    close.addEventListener("click", () => this.close());
    reset.addEventListener("click", () => this.reset());
    this.panel.addEventListener("keydown", (e) => {
      if (e.key !== "Escape") return;
      e.preventDefault();
      e.stopPropagation(); // Esc closes the panel; a streaming reply keeps going
      this.close();
    });
    document.getElementById("chat").append(this.panel);
    this.button.setAttribute("aria-expanded", "true");
    controls.model.focus();
  }

  close({ restoreFocus = true } = {}) {
    if (!this.panel) return;
    const hadFocus = this.panel.contains(document.activeElement);
    this.panel.remove();
    this.panel = null;
    this.controls = null;
    this.button.setAttribute("aria-expanded", "false");
    if (restoreFocus && hadFocus) this.button.focus();
  }

  /** Empty every field (the model's defaults) without saving yet. */
  reset() {
    const c = this.controls;
    c.system.value = "";
    for (const input of Object.values(c.options)) input.value = "";
    for (const radio of c.think) radio.checked = radio.value === "default";
    showErrors(c, {});
    c.system.focus();
  }

  async save() {
    if (this.saving) return;
    const controls = this.controls;
    const conversation = this.chat.conversation;
    const read = readForm(controls, conversation);
    if (read.errors) {
      showErrors(controls, read.errors);
      return;
    }
    showErrors(controls, {});
    this.saving = true;
    try {
      const stored = await this.persist(read.fields);
      this.close();
      this.saved(stored);
      toast("Chat settings saved", { kind: "info", timeout: 2500 });
      announce("Chat settings saved");
    } catch (err) {
      if (this.controls !== controls) return;
      const byField = err.code === "invalid_option" ? errorsFromServer(err.message) : null;
      showErrors(controls, byField || {}, byField ? "" : err.message || String(err));
    } finally {
      this.saving = false;
    }
  }

  /** Saved. A new chat now exists; the header's model picker follows the chosen model. */
  saved(conversation) {
    const chat = this.chat;
    if (!chat.currentId) {
      chat.currentId = conversation.id;
      chat.hooks.onCreated(conversation.id, true);
    }
    if (conversation.id !== chat.currentId) return;
    chat.conversation = { ...(chat.conversation || { messages: [] }), ...conversation };
    this.reflect(chat.conversation);
    if (conversation.model) chat.hooks.onModelUsed(conversation.model, conversation.endpoint_id);
    chat.hooks.onChanged();
  }

  persist(fields) {
    const id = this.chat.currentId;
    if (id) return this.chat.api.updateConversation(id, fields);
    return this.chat.api.createConversation(fields);
  }
}
