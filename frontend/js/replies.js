// The replies in flight, in one place: each is a stream record (see Chat.request), known by
// the request_id we sent until the backend's `start` names its message, then by both. Another
// window's reply in the open conversation is known by its message only.

export class RepliesInFlight {
  constructor() {
    this.byRequest = new Map(); // request_id -> stream, for our own requests
    this.byMessage = new Map(); // message_id -> stream, once `start` has named it
  }

  /** Our own request went out. */
  asked(stream) {
    this.byRequest.set(stream.requestId, stream);
  }

  /** `start` named the reply's message (stream.messageId is set). */
  named(stream) {
    this.byMessage.set(stream.messageId, stream);
  }

  ofRequest(requestId) {
    return this.byRequest.get(requestId) || null;
  }

  ofMessage(messageId) {
    return this.byMessage.get(messageId) || null;
  }

  hasMessage(messageId) {
    return this.byMessage.has(messageId);
  }

  /** Our own requests not yet ended (named or not). */
  asking() {
    return this.byRequest.values();
  }

  /** Every reply streaming now (ours and other windows'), once named. */
  streaming() {
    return this.byMessage.values();
  }

  isEmpty() {
    return this.byRequest.size === 0 && this.byMessage.size === 0;
  }

  /** The reply ended (or was refused): forget it under both names. */
  forget(stream) {
    if (stream.requestId) this.byRequest.delete(stream.requestId);
    if (stream.messageId) this.byMessage.delete(stream.messageId);
  }

  clear() {
    this.byRequest.clear();
    this.byMessage.clear();
  }
}
