// The message box: grows with its text, Enter (or Ctrl+Enter, per Settings) sends,
// Shift+Enter breaks the line, and the draft is saved per conversation so nothing the user
// typed is ever lost.
import { Attachments } from "./attachments.js";
import { imagesSupported } from "./images.js";
import { sendOnEnter } from "./prefs.js";
import { draftKey, load, save } from "./localstore.js";
import { debounce } from "./util.js";

const MAX_HEIGHT_PX = 240;

export class Composer {
  /**
   * @param {{onSend: (text: string, images: object[]) => boolean, onStop: () => void,
   *   onEditLast: () => boolean}} handlers
   * @param {object} api the client images are uploaded with
   */
  constructor(handlers, api) {
    this.handlers = handlers;
    this.form = document.getElementById("composer");
    this.input = document.getElementById("composer-input");
    this.sendBtn = document.getElementById("send-btn");
    this.stopBtn = document.getElementById("stop-btn");
    this.conversationId = undefined; // undefined until the first switchTo(): nothing to save yet
    this.canSend = false;
    this.busy = false;
    this.saveDraft = debounce(() => save(draftKey(this.conversationId), this.input.value), 250);
    this.attachments = new Attachments({
      api,
      host: document.getElementById("composer-images"),
      onChange: () => this.refreshButtons(),
    });
    this.bind();
    this.bindImages();
  }

  bind() {
    this.input.addEventListener("input", () => {
      this.autosize();
      this.refreshButtons();
      this.saveDraft();
    });
    this.input.addEventListener("keydown", (event) => {
      const sends = sendOnEnter() || event.ctrlKey || event.metaKey; // Settings: Enter sends
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing && sends) {
        event.preventDefault();
        this.submit();
      } else if (event.key === "ArrowUp" && this.wantsEditLast(event)) {
        // Up in an empty box edits the last message (true when the chat could).
        if (this.handlers.onEditLast()) event.preventDefault();
      }
    });
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
    this.stopBtn.addEventListener("click", () => this.handlers.onStop());
  }

  bindImages() {
    const picker = document.getElementById("attach-input");
    const button = document.getElementById("attach-btn");
    button.hidden = !imagesSupported(); // a paired phone: a paste or drop says why in words
    button.addEventListener("click", () => picker.click());
    picker.addEventListener("change", () => {
      this.attachments.add(picker.files);
      picker.value = ""; // the same file may be picked again
      this.focus();
    });
    // Ctrl+V of an image (a screenshot, a copied picture); text pastes as usual.
    this.input.addEventListener("paste", (event) => {
      const files = [...(event.clipboardData ? event.clipboardData.files : [])];
      if (!files.some((file) => file.type.startsWith("image/"))) return;
      event.preventDefault();
      this.attachments.add(files);
    });
  }

  /** Images dropped anywhere on the chat (main.js listens on the pane). */
  attachDropped(files) {
    this.attachments.add(files);
    this.focus();
  }

  wantsEditLast(event) {
    const mods = event.shiftKey || event.altKey || event.ctrlKey || event.metaKey;
    return !mods && !event.isComposing && this.input.value === "";
  }

  submit() {
    const text = this.input.value;
    if (!this.hasContent() || !this.canSend || this.busy || !this.attachments.ready()) return;
    if (this.handlers.onSend(text, this.attachments.taken())) this.clear();
  }

  /** Text, or images alone (a picture is a question too). */
  hasContent() {
    return Boolean(this.input.value.trim()) || this.attachments.count() > 0;
  }

  clear() {
    this.input.value = "";
    this.attachments.clear();
    save(draftKey(this.conversationId), null);
    this.autosize();
    this.refreshButtons();
  }

  /** Switch to another conversation's draft, saving the current one first. */
  switchTo(conversationId) {
    if (this.conversationId !== undefined) save(draftKey(this.conversationId), this.input.value);
    this.conversationId = conversationId;
    const draft = load(draftKey(conversationId), "") || "";
    // Measuring the box lays out the whole page, just after a conversation was put in: only
    // when its text changes (most conversations have no draft).
    if (draft !== this.input.value || !this.input.style.height) {
      this.input.value = draft;
      this.autosize();
    }
    this.refreshButtons();
  }

  /** A new chat got its id: its draft moves with it. */
  adopt(conversationId) {
    const draft = this.input.value;
    save(draftKey(this.conversationId), null);
    this.conversationId = conversationId;
    save(draftKey(conversationId), draft);
  }

  /** Put text and images back (a send that failed) without overwriting anything added since. */
  restore(text, images) {
    this.attachments.restore(images);
    if (this.input.value.trim()) return;
    this.input.value = text;
    this.autosize();
    this.refreshButtons();
    this.saveDraft();
  }

  setText(text) {
    this.input.value = text;
    this.autosize();
    this.refreshButtons();
    this.saveDraft();
    this.focus();
  }

  setCanSend(canSend, placeholder) {
    this.canSend = canSend;
    if (placeholder) this.input.placeholder = placeholder;
    this.refreshButtons();
  }

  setBusy(busy) {
    this.busy = busy;
    this.stopBtn.hidden = !busy;
    this.sendBtn.hidden = busy;
    this.refreshButtons();
  }

  refreshButtons() {
    const ready = this.hasContent() && this.attachments.ready();
    this.sendBtn.disabled = !this.canSend || this.busy || !ready;
  }

  autosize() {
    this.input.style.height = "auto";
    const height = Math.min(this.input.scrollHeight, MAX_HEIGHT_PX);
    this.input.style.height = `${height}px`;
    this.input.classList.toggle("scrolling", this.input.scrollHeight > MAX_HEIGHT_PX);
  }

  focus() {
    this.input.focus({ preventScroll: true });
  }
}
