// The transport through remote access: the same interface as transport/local.js, over the
// end-to-end encrypted channel to the desktop. The relay serves this UI under /app/ next to
// its own page (/), whose link.js speaks the channel: the handshake with the keys pinned at
// pairing, sealed frames, and resuming the app's socket from the last frame after a drop.
// REST calls travel as request/response frames, /ws frames as they are. Only pick.js loads
// this module, and only on a page the relay serves, so the absolute imports below resolve.
import { unb64url } from "/crypto.js";
import { loadPairing } from "/keystore.js";
import { TunnelLink } from "/link.js";
import { ApiError } from "../apierror.js";

const PAIRING_PAGE = "/"; // the relay's page: pairing, approval, and "no longer paired"
// The desktop ends a session that has more than 16 REST calls open (session.py): the UI's
// bursts (start-up, a reconnect) wait their turn here instead.
const MAX_REQUESTS_IN_FLIGHT = 8;

function apiErrorFrom(status, body) {
  const error = body && body.error;
  if (error) return new ApiError(status, error.code, error.message);
  return new ApiError(status, "http_error", `Request failed (${status})`);
}

export class TunnelTransport {
  constructor() {
    this.frameListeners = [];
    this.stateListeners = [];
    this.link = null;
    this.online = false;
    this.inFlight = 0;
    this.queued = []; // resolvers of calls waiting for a free slot
    // Calls travel as JSON frames: no image upload or fetch (the UI says so instead).
    this.carriesFiles = false;
    this.whenOnline = new Promise((resolve) => {
      this.becameOnline = resolve;
    });
  }

  onFrame(cb) {
    this.frameListeners.push(cb);
  }

  onState(cb) {
    this.stateListeners.push(cb);
  }

  /** Opens the channel with this browser's pairing; without one, back to the pairing page. */
  async connect() {
    if (this.link) return;
    const saved = await loadPairing();
    if (!saved) {
      location.replace(PAIRING_PAGE);
      return;
    }
    this.link = new TunnelLink({
      desktopId: saved.desktopId,
      desktopStatic: unb64url(saved.desktopStatic),
      staticKey: saved.staticKey,
      pairing: null,
      onState: (state) => this.linkState(state),
      onFrame: (frame) => this.frameListeners.forEach((cb) => cb(frame)),
    }).start();
  }

  linkState(state) {
    if (state === "removed" || state === "pending") {
      location.replace(PAIRING_PAGE); // that page says what the user can do about it
      return;
    }
    const open = state === "online";
    if (open === this.online) return;
    this.online = open;
    if (open) this.becameOnline();
    else {
      this.whenOnline = new Promise((resolve) => {
        this.becameOnline = resolve;
      });
    }
    // The link retries on its own backoff, so there is no moment to announce.
    this.stateListeners.forEach((cb) => cb({ open, retryAt: null }));
  }

  isOpen() {
    return this.online;
  }

  /** The link already reconnects with backoff; a user's click cannot hurry the desktop. */
  retryNow() {
    this.connect();
  }

  /** Waits for the channel (the UI's first calls race its handshake), then one REST call. */
  async request(method, path, body, { as = "json" } = {}) {
    if (as === "file") {
      throw new ApiError(0, "not_supported", "Downloads are made on the desktop.");
    }
    await this.whenOnline;
    const absolute = path.startsWith("/") ? path : `/${path}`;
    const answer = await this.limited(() =>
      this.link.request(method, absolute, body === undefined ? null : body),
    );
    if (answer.status >= 400) throw apiErrorFrom(answer.status, answer.body);
    if (answer.status === 204 || answer.status === 202) return null;
    return typeof answer.body === "object" ? answer.body : null;
  }

  /** One call in a slot; a finished call hands its slot to the next waiting one. */
  async limited(call) {
    if (this.inFlight < MAX_REQUESTS_IN_FLIGHT) this.inFlight += 1;
    else await new Promise((resolve) => this.queued.push(resolve));
    try {
      return await call();
    } catch {
      throw new ApiError(0, "network_error", "Can't reach your desktop.");
    } finally {
      const next = this.queued.shift();
      if (next) next();
      else this.inFlight -= 1;
    }
  }

  send(frame) {
    if (!this.online) return false;
    return this.link.send(frame);
  }
}
