// The connection pill in the header, fed by `status` frames (Ollama), the socket (the app) and
// remote access's state (GET /api/remote, then `remote.changed` frames).

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
  constructor({ onReconnect }) {
    this.pill = document.getElementById("status-pill");
    this.label = this.pill.querySelector(".label");
    this.remoteLabel = this.pill.querySelector(".remote");
    this.remote = "off";
    this.status = null;
    this.socketOpen = false;
    this.deadline = null;
    this.timer = null;
    this.pill.addEventListener("click", () => {
      if (!this.socketOpen || !this.status || this.status.state !== "connected") onReconnect();
    });
  }

  setStatus(status) {
    this.status = status;
    const retry = status.next_retry_s;
    this.deadline = typeof retry === "number" && retry > 0 ? Date.now() + retry * 1000 : null;
    this.render();
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
    if (!this.status) return;
    this.status = { ...this.status, state: "connecting", next_retry_s: null };
    this.deadline = null;
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
    const s = this.status || { state: "connecting" };
    let text = LABELS[s.state] || s.state;
    if (s.state === "reconnecting" && this.deadline) {
      const leftMs = this.deadline - Date.now();
      if (leftMs > 0) {
        text = `Reconnecting in ${Math.ceil(leftMs / 1000)} s`;
        // Next paint when the whole seconds left change, so each number shows for a full
        // second and the last one ends with the retry itself (then "Reconnecting…").
        this.timer = setTimeout(() => this.render(), leftMs % 1000 || 1000);
      }
    }
    this.paint(s.state, text, tooltip(s));
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

function tooltip(s) {
  const where = s.endpoint ? `Ollama at ${s.endpoint}` : "Ollama";
  if (s.state === "connected") {
    const parts = [where];
    if (s.version) parts.push(`version ${s.version}`);
    if (typeof s.latency_ms === "number") parts.push(`${Math.round(s.latency_ms)} ms`);
    return parts.join(" · ");
  }
  const err = s.error ? ` — ${s.error}` : "";
  return `${where}${err}. Click to reconnect now.`;
}
