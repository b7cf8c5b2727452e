// A reasoning model's thinking: collapsed, "Thinking…" with a live dot while it thinks, then
// "Thought for 3.2 s" (the backend's `stats.thinking_ms` once known, our own clock before).
import { el } from "./util.js";

/** "Thought for 3.2 s" from milliseconds; null when unknown. */
export function thoughtFor(ms) {
  if (typeof ms !== "number" || !Number.isFinite(ms) || ms < 0) return null;
  const s = ms / 1000;
  return `Thought for ${s < 60 ? s.toFixed(1) : Math.round(s)} s`;
}

/** Our own measure (performance.now() times) while the backend's is not there yet. */
function measured({ startedAt = null, endedAt = null } = {}) {
  return startedAt !== null && endedAt !== null ? thoughtFor(endedAt - startedAt) : null;
}

export class ThinkingBlock {
  constructor() {
    this.body = el("div", { class: "thinking-body", "data-testid": "thinking-body" });
    this.label = el("span", { class: "thinking-label", "data-testid": "thinking-label" });
    this.element = el(
      "details",
      { class: "thinking", "data-testid": "thinking" },
      el("summary", {}, el("span", { class: "thinking-dot", "aria-hidden": "true" }), this.label),
      this.body,
    );
    this.setLive(true);
  }

  setLive(live) {
    const value = live ? "true" : "false";
    if (this.element.dataset.live !== value) this.element.dataset.live = value;
    if (live) this.setLabel("Thinking…");
  }

  // Only a real change: a stored reply is refreshed after every reply in its conversation.
  setLabel(text) {
    if (this.label.textContent !== text) this.label.textContent = text;
  }

  /**
   * The thinking so far (plain text: untrusted and often half-formed). `times` are our clock's
   * start and end of the thinking; with an end, the answer has begun and thinking is over.
   */
  update(text, times = {}) {
    if (this.body.textContent !== text) this.body.textContent = text;
    const done = times.endedAt !== undefined && times.endedAt !== null;
    this.setLive(!done);
    if (done) this.setLabel(measured(times) || "Thoughts");
  }

  /** The reply ended: the stored figure wins; else ours (a reply stopped mid-thought: until now). */
  finish(stats, times = {}) {
    this.setLive(false);
    let label = stats ? thoughtFor(stats.thinking_ms) : null;
    if (!label && times.startedAt !== undefined && times.startedAt !== null) {
      label = measured({ startedAt: times.startedAt, endedAt: times.endedAt ?? performance.now() });
    }
    this.setLabel(label || "Thoughts");
  }
}
