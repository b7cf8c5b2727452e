// WebSocket to the backend with automatic reconnect (exponential backoff with jitter).

const BACKOFF_MS = [300, 1000, 2000, 4000, 8000, 15000];
const PING_EVERY_MS = 25000;

export class ChatSocket {
  /**
   * @param {string} token per-launch token, sent as ?token= (browsers can't set WS headers)
   * @param {{onFrame: Function, onOpen: Function, onClose: Function}} handlers
   * @param {string[]} events app event groups to subscribe to on every (re)connect
   */
  constructor(token, handlers, events = []) {
    this.token = token;
    this.handlers = handlers;
    this.events = events;
    this.ws = null;
    this.attempt = 0;
    this.retryTimer = null;
    this.pingTimer = null;
    this.nextRetryAt = null;
  }

  url() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const query = this.token ? `?token=${encodeURIComponent(this.token)}` : "";
    return `${scheme}//${location.host}/ws${query}`;
  }

  isOpen() {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  connect() {
    clearTimeout(this.retryTimer);
    this.nextRetryAt = null;
    if (this.ws && this.ws.readyState <= WebSocket.OPEN) return;
    const ws = new WebSocket(this.url());
    this.ws = ws;
    ws.addEventListener("open", () => {
      this.attempt = 0;
      this.pingTimer = setInterval(() => this.send({ type: "ping" }), PING_EVERY_MS);
      // One subscription per socket, for every module: frames are dispatched by main.js.
      if (this.events.length) this.send({ type: "subscribe", events: this.events });
      this.handlers.onOpen();
    });
    ws.addEventListener("message", (event) => this.receive(event.data));
    ws.addEventListener("close", () => {
      if (this.ws !== ws) return;
      clearInterval(this.pingTimer);
      this.ws = null;
      this.scheduleRetry();
    });
  }

  receive(data) {
    let frame;
    try {
      frame = JSON.parse(data);
    } catch {
      return;
    }
    if (frame && typeof frame.type === "string") this.handlers.onFrame(frame);
  }

  scheduleRetry() {
    const base = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)];
    const delay = base + Math.random() * base * 0.2;
    this.attempt += 1;
    this.nextRetryAt = Date.now() + delay;
    this.retryTimer = setTimeout(() => this.connect(), delay);
    this.handlers.onClose(this.nextRetryAt);
  }

  /** Reconnect now instead of waiting for the backoff (the user clicked the status pill). */
  retryNow() {
    if (!this.ws) this.connect();
  }

  /** Send a frame; false when the socket is not open (the caller keeps the user's text). */
  send(frame) {
    if (!this.isOpen()) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }
}
