// The connection pill in the header, fed by `status` frames (Ollama), `endpoint.status`
// frames (the other model servers), the socket (the app) and remote access's state
// (GET /api/remote, then `remote.changed` frames). It shows the endpoint IN USE: the open
// conversation's, or the one a new chat would use; named when there are several endpoints
// ("LM Studio · Connected"). A click reconnects that endpoint.

const LABELS = {
  connected: "Connected",
  connecting: "Connecting…",
  reconnecting: "Reconnecting…",
  disconnected: "Disconnected",
  error: "Ollama error",
};
// Remote access's link to its relay; nothing is shown while it is off.
const REMOTE_LABELS = {
  connecting: "Remote: connecting…",
  online: "Remote: online",
  offline: "Remote: relay unreachable",
};

export class StatusPill {
  /** @param {{onReconnect: (endpointId: string) => void}} o */
  constructor({ onReconnect }) {
    this.pill = document.getElementById("status-pill");
    this.label = this.pill.querySelector(".label");
    this.remoteLabel = this.pill.querySelector(".remote");
    this.remote = "off";
    this.status = null; // Ollama's (the `ollama` endpoint's) STATUS
    this.others = new Map(); // every other endpoint's id -> {name, status}
    this.inUse = "ollama";
    this.socketOpen = false;
    this.deadline = null;
    this.timer = null;
    this.pill.addEventListener("click", () => {
      const shown = this.shown();
      if (!this.socketOpen || !shown || shown.state !== "connected") onReconnect(this.inUse);
    });
  }

  setStatus(status) {
    this.status = status;
    this.render();
  }

  /** The endpoints as GET /api/endpoints lists them (an endpoint was added or removed). */
  setEndpoints(endpoints) {
    this.others = new Map(
      endpoints
        .filter((e) => e.id !== "ollama")
        .map((e) => [e.id, { name: e.name, status: e.status }]),
    );
    this.render();
  }

  /** An `endpoint.status` frame, or an endpoint's fresh view after "Connect". */
  setEndpointStatus(id, status) {
    const known = this.others.get(id);
    if (!known) return; // removed meanwhile, or not listed yet: the next list brings it
    known.status = status;
    this.render();
  }

  /** The endpoint in use: the open conversation's, or the new chat's pick. */
  use(endpointId) {
    this.inUse = endpointId || "ollama";
    this.render();
  }

  /** The in-use endpoint's STATUS (Ollama's when that one is unknown or in use). */
  shown() {
    const other = this.others.get(this.inUse);
    return other ? other.status : this.status;
  }

  /** The in-use endpoint's name, or null with a single endpoint (the words stay short). */
  shownName() {
    if (!this.others.size) return null;
    const other = this.others.get(this.inUse);
    return other ? other.name : "Ollama";
  }

  setRemote(state) {
    this.remote = typeof state === "string" ? state : "off";
    this.render();
  }

  setSocketOpen(open) {
    this.socketOpen = open;
    this.render();
  }

  /** Shown at once after a click, until the server's next status frame. */
  showConnecting() {
    const shown = this.shown();
    if (!shown) return;
    const connecting = { ...shown, state: "connecting", next_retry_s: null };
    if (this.others.has(this.inUse)) this.others.get(this.inUse).status = connecting;
    else this.status = connecting;
    this.render();
  }

  render() {
    clearTimeout(this.timer);
    this.timer = null;
    if (!this.socketOpen) {
      this.paint(
        "offline",
        "App offline",
        "Lost the connection to the app — retrying. Click to retry now.",
      );
      return;
    }
    const s = this.shown() || { state: "connecting" };
    const name = this.shownName();
    const retry = s.next_retry_s;
    if (s !== this.counting) {
      // A new status: its countdown starts now (a repaint keeps the deadline it had).
      this.counting = s;
      this.deadline = typeof retry === "number" && retry > 0 ? Date.now() + retry * 1000 : null;
    }
    let text = name && s.state === "error" ? "Error" : LABELS[s.state] || s.state;
    if (s.state === "reconnecting" && this.deadline) {
      const leftMs = this.deadline - Date.now();
      if (leftMs > 0) {
        text = `Reconnecting in ${Math.ceil(leftMs / 1000)} s`;
        // Next paint when the whole seconds left change, so each number shows for a full
        // second and the last one ends with the retry itself (then "Reconnecting…").
        this.timer = setTimeout(() => this.render(), leftMs % 1000 || 1000);
      }
    }
    if (name) text = `${name} · ${text}`;
    this.paint(s.state, text, tooltip(s, name || "Ollama"));
  }

  paint(state, text, plainTitle) {
    const remote = REMOTE_LABELS[this.remote] || "";
    const title = remote ? `${plainTitle} · ${remote}` : plainTitle;
    this.pill.dataset.state = state;
    this.pill.dataset.remote = this.remote;
    this.label.textContent = text;
    this.remoteLabel.textContent = remote;
    this.remoteLabel.hidden = !remote;
    this.pill.title = title;
    const clickable = state !== "connected";
    this.pill.classList.toggle("clickable", clickable);
    this.pill.setAttribute(
      "aria-label",
      clickable ? `${text}. Click to reconnect.` : `${text}. ${title}`,
    );
  }
}

function tooltip(s, server) {
  const where = s.endpoint ? `${server} at ${s.endpoint}` : server;
  if (s.state === "connected") {
    const parts = [where];
    if (s.version) parts.push(`version ${s.version}`);
    if (typeof s.model_count === "number") {
      parts.push(`${s.model_count} model${s.model_count === 1 ? "" : "s"}`);
    }
    if (typeof s.latency_ms === "number") parts.push(`${Math.round(s.latency_ms)} ms`);
    return parts.join(" · ");
  }
  const err = s.error ? ` — ${s.error}` : "";
  return `${where}${err}. Click to reconnect now.`;
}
