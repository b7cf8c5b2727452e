// The transport to the app on this machine: REST over fetch and frames over /ws, both carrying
// the per-launch token. It implements the Transport interface below; api.js is the one client
// on top, and main.js picks the transport at start-up.
//
// Transport interface (a second transport, e.g. an encrypted tunnel that carries REST calls as
// request/response frames and /ws frames inside it, implements the same five members):
//   request(method, path, body?, {as}?) -> Promise
//       method: "GET" | "POST" | "PATCH" | "DELETE"; path: relative to the app, e.g.
//       "api/conversations?q=x". body: a JSON-serialisable value, or a string/Blob sent as is
//       (an import file). Resolves with the parsed JSON answer (null for 202/204), or with
//       {blob, filename} when as === "file" (a download). Rejects with ApiError(status, code,
//       message): status 0 / code "network_error" when the app can't be reached.
//   send(frame) -> boolean      one WebSocket frame (an object); false when not connected, so
//                               the caller keeps the user's text.
//   onFrame(cb)                 cb(frame) for every frame received (an object with a `type`).
//   onState(cb)                 cb({open: boolean, retryAt: number|null}) on every connect and
//                               disconnect; retryAt is the Date.now() of the next attempt.
//   connect(), retryNow(), isOpen()  start, reconnect without waiting, and ask.
//   carriesFiles                true when request() can send and fetch raw bytes (images).
import { ApiError, dispositionName } from "../apierror.js";

const BACKOFF_MS = [300, 1000, 2000, 4000, 8000, 15000];
const PING_EVERY_MS = 25000;

async function errorFrom(response) {
  try {
    const body = await response.json();
    if (body && body.error) {
      return new ApiError(response.status, body.error.code, body.error.message);
    }
  } catch {
    // Not JSON (a proxy or a crash page): fall through to a generic message.
  }
  return new ApiError(response.status, "http_error", `Request failed (${response.status})`);
}

export class LocalTransport {
  /** @param {string} token the per-launch token (a Bearer header; ?token= on the socket) */
  constructor(token) {
    this.token = token;
    this.frameListeners = [];
    this.stateListeners = [];
    this.ws = null;
    this.attempt = 0;
    this.retryTimer = null;
    this.pingTimer = null;
    this.carriesFiles = true;
  }

  onFrame(cb) {
    this.frameListeners.push(cb);
  }

  onState(cb) {
    this.stateListeners.push(cb);
  }

  async request(method, path, body, { as = "json" } = {}) {
    const response = await this.fetch(method, path, body);
    if (as === "file") {
      const filename = dispositionName(response.headers.get("Content-Disposition"));
      return { blob: await response.blob(), filename };
    }
    if (response.status === 204 || response.status === 202) return null;
    const type = response.headers.get("Content-Type") || "";
    return type.includes("json") ? response.json() : null;
  }

  async fetch(method, path, body) {
    const headers = { Accept: "application/json" };
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    const init = { method, headers, cache: "no-store" };
    if (body !== undefined) {
      // A Blob says its own type (an image upload); anything else is JSON.
      headers["Content-Type"] = (body instanceof Blob && body.type) || "application/json";
      const asIs = typeof body === "string" || body instanceof Blob;
      init.body = asIs ? body : JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(path, init);
    } catch {
      throw new ApiError(0, "network_error", "Can't reach the app's backend.");
    }
    if (!response.ok) throw await errorFrom(response);
    return response;
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
    if (this.ws && this.ws.readyState <= WebSocket.OPEN) return;
    const ws = new WebSocket(this.url());
    this.ws = ws;
    ws.addEventListener("open", () => {
      this.attempt = 0;
      this.pingTimer = setInterval(() => this.send({ type: "ping" }), PING_EVERY_MS);
      this.tell({ open: true, retryAt: null });
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
    if (!frame || typeof frame.type !== "string" || frame.type === "pong") return;
    for (const cb of this.frameListeners) cb(frame);
  }

  scheduleRetry() {
    const base = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)];
    const delay = base + Math.random() * base * 0.2;
    this.attempt += 1;
    const retryAt = Date.now() + delay;
    this.retryTimer = setTimeout(() => this.connect(), delay);
    this.tell({ open: false, retryAt });
  }

  tell(state) {
    for (const cb of this.stateListeners) cb(state);
  }

  /** Reconnect now instead of waiting for the backoff (the user clicked the status pill). */
  retryNow() {
    if (!this.ws) this.connect();
  }

  send(frame) {
    if (!this.isOpen()) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }
}
