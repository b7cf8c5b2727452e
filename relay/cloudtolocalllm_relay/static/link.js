// The tunnel transport: one WebSocket to the relay, the handshake, the sealed frames, and
// reconnection with the socket resumed from the last frame received.
// Its face is the app's transport: request(method, path, body), send(frame), onFrame, onState.

import { Handshake } from "./crypto.js";

const BACKOFF_FIRST_MS = 500;
const BACKOFF_MAX_MS = 10_000;
const CLOSED_BY_DESKTOP = 4000; // the relay's close code when the desktop ends a session

export class TunnelLink {
  /**
   * desktopId, desktopStatic (bytes), staticKey (a CryptoKeyPair), pairing ({id, secret,
   * name} while pairing, else null); callbacks onState(state, detail), onFrame(frame),
   * onReset() when the socket starts afresh (state must be reloaded), onPaired() once the
   * desktop has taken the pairing request.
   */
  constructor(options) {
    Object.assign(this, options);
    this.onFrame = options.onFrame || (() => {});
    this.onState = options.onState || (() => {});
    this.onReset = options.onReset || (() => {});
    this.onPaired = options.onPaired || (() => {});
    this.lastIndex = -1;
    this.nextId = 1;
    this.pending = new Map();
    this.backoff = BACKOFF_FIRST_MS;
    this.inbox = Promise.resolve();
    this.outbox = Promise.resolve();
  }

  start() {
    this.connect();
    return this;
  }

  connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}/v1/device/${this.desktopId}`);
    this.ws = ws;
    this.cipher = null;
    this.onState("connecting");
    ws.onmessage = (event) => {
      this.inbox = this.inbox
        .then(() => this.fromRelay(ws, JSON.parse(event.data)))
        .catch(() => ws.close()); // a frame that fails to open: this session is over
    };
    ws.onclose = (event) => this.dropped(ws, event.code);
  }

  dropped(ws, code) {
    if (this.ws !== ws) return;
    // Ended by the desktop before any session: it no longer knows this device.
    if (code === CLOSED_BY_DESKTOP && !this.established) this.removed = true;
    this.endSession();
    this.onState(this.removed ? "removed" : "reconnecting");
    if (this.removed) return;
    setTimeout(() => this.connect(), this.backoff);
    this.backoff = Math.min(this.backoff * 2, BACKOFF_MAX_MS);
  }

  /** The session is over: its keys go, and calls waiting on it fail. */
  endSession() {
    this.established = false;
    this.cipher = null;
    for (const { reject } of this.pending.values()) reject(new Error("the link dropped"));
    this.pending.clear();
  }

  async fromRelay(ws, frame) {
    if (frame.type === "desktop") {
      this.endSession();
      if (frame.state === "online") await this.hello(ws);
      else this.onState("desktop-offline");
    } else if (frame.type === "data" && this.handshake) {
      const shake = this.handshake;
      this.handshake = null;
      const { cipher, code } = await shake.finish(JSON.parse(frame.data));
      this.cipher = cipher;
      this.code = code;
    } else if (frame.type === "data" && this.cipher) {
      await this.fromDesktop(await this.cipher.open(frame.data));
    }
  }

  async hello(ws) {
    const pairing = this.pairing;
    this.handshake = new Handshake(
      this.desktopStatic,
      this.staticKey,
      pairing ? pairing.id : null,
      pairing ? pairing.secret : null,
    );
    ws.send(JSON.stringify({ type: "data", data: JSON.stringify(await this.handshake.hello()) }));
  }

  async fromDesktop(frame) {
    if (frame.type === "session") {
      this.established = true;
      this.backoff = BACKOFF_FIRST_MS;
      if (frame.state === "pairing") {
        this.seal({ type: "pair.request", name: this.pairing.name });
      } else if (frame.state === "pending") {
        this.onState("pending", this.code);
      } else {
        this.openSocket();
      }
    } else if (frame.type === "pair.pending") {
      this.pairing = null; // used up: the next session is an ordinary one
      await this.onPaired();
      this.onState("pending", frame.code);
    } else if (frame.type === "pair.approved") {
      this.openSocket();
    } else if (frame.type === "http") {
      const waiter = this.pending.get(frame.id);
      this.pending.delete(frame.id);
      if (waiter) waiter.resolve(frame);
    } else if (frame.type === "ws.opened") {
      this.onState("online");
      if (!frame.resumed) this.onReset();
    } else if (frame.type === "ws") {
      this.lastIndex = frame.index;
      this.onFrame(JSON.parse(frame.text));
    }
  }

  openSocket() {
    this.seal({ type: "ws.open", resume_after: this.lastIndex >= 0 ? this.lastIndex : null });
  }

  seal(frame) {
    const { ws, cipher } = this;
    if (!cipher) return false;
    this.outbox = this.outbox.then(async () => {
      const data = await cipher.seal(frame);
      ws.send(JSON.stringify({ type: "data", data }));
    });
    return true;
  }

  /** A REST call through the channel: resolves to {status, body}. */
  request(method, path, body = null) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (!this.seal({ type: "http", id, method, path, body })) {
        reject(new Error("not connected"));
        return;
      }
      this.pending.set(id, { resolve, reject });
    });
  }

  /** A frame for the app's /ws. */
  send(frame) {
    return this.seal({ type: "ws", text: JSON.stringify(frame) });
  }
}
