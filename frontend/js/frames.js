// The one way socket frames reach the modules. A frame carrying the request_id of a request in
// flight goes to the module that sent it (a model pull); every other frame goes to the
// handlers of its type ("conversation." follows every conversation.* type).

export class FrameRouter {
  constructor() {
    this.byType = new Map(); // type or "prefix." -> [handler]
    this.byRequest = new Map(); // request_id -> handler, while that request is in flight
  }

  /** Call handler(frame) for every frame of `type` (a type ending in "." is a prefix). */
  on(type, handler) {
    if (!this.byType.has(type)) this.byType.set(type, []);
    this.byType.get(type).push(handler);
  }

  /** The frames of a request in flight go to handler until release(requestId). */
  own(requestId, handler) {
    this.byRequest.set(requestId, handler);
  }

  release(requestId) {
    this.byRequest.delete(requestId);
  }

  route(frame) {
    const owner = typeof frame.request_id === "string" && this.byRequest.get(frame.request_id);
    if (owner) {
      owner(frame);
      return;
    }
    const dot = frame.type.indexOf(".");
    const prefix = dot > 0 ? frame.type.slice(0, dot + 1) : null;
    const handlers = [...(this.byType.get(frame.type) || []), ...(this.byType.get(prefix) || [])];
    for (const handler of handlers) handler(frame);
  }
}
