// Watching the conversation on screen (`conversation.watch`, docs/protocol-reliability.md):
// the backend then sends this socket the frames of every reply in it, another window's too,
// so a reply started elsewhere streams here live instead of appearing when it ends. One
// conversation is watched at a time; a new socket watches it again (watches end with theirs).
import { uuid } from "./util.js";

export class ConversationWatch {
  /** @param {{api, router: FrameRouter}} o */
  constructor({ api, router }) {
    this.api = api;
    this.router = router;
    this.id = null; // the conversation on screen (null: a new, empty chat)
    this.pending = new Map(); // conversation_id -> request_id of a watch not yet answered
    router.on("conversation.watching", (frame) => this.answered(frame.conversation_id));
    api.transport.onState(({ open }) => {
      for (const id of [...this.pending.keys()]) this.answered(id); // that socket is gone
      if (open && this.id) this.watch(this.id);
    });
  }

  /** The conversation on screen changed: follow it, and stop following the one before. */
  show(id) {
    if (id === this.id) return;
    const before = this.id;
    this.id = id;
    if (before) this.api.send({ type: "conversation.unwatch", conversation_id: before });
    if (id) this.watch(id);
  }

  watch(id) {
    const requestId = uuid();
    // A refusal (the conversation was just deleted) needs no word: opening it says so.
    this.router.own(requestId, () => this.answered(id));
    this.pending.set(id, requestId);
    if (!this.api.send({ type: "conversation.watch", conversation_id: id, request_id: requestId }))
      this.answered(id); // no socket: watched again when it opens
  }

  answered(id) {
    const requestId = this.pending.get(id);
    if (!requestId) return;
    this.pending.delete(id);
    this.router.release(requestId);
  }
}
