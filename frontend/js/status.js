// The connection pill in the header, fed by `status` frames (Ollama) and the socket (the app).

const LABELS = {
  connected: "Connected",
  connecting: "Connecting…",
  reconnecting: "Reconnecting…",
  disconnected: "Disconnected",
  error: "Ollama error",
};

export class StatusPill {
  constructor({ onReconnect }) {
    this.pill = document.getElementById("status-pill");
    this.label = this.pill.querySelector(".label");
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

  paint(state, text, title) {
    this.pill.dataset.state = state;
    this.label.textContent = text;
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
