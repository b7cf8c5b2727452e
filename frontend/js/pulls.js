// Model downloads over the WebSocket (`models.pull`): their progress, cancel and outcome.
// A pull belongs to the socket that asked, so it also ends when that socket drops.
import { RateMeter } from "./pullrate.js";
import { uuid } from "./util.js";

/**
 * One pull. state: "running" | "cancelling" | "error".
 * bytes are summed over the layers seen so far (Ollama reports one layer per line).
 */
function newPull(name) {
  return {
    requestId: uuid(),
    name,
    state: "running",
    status: "Starting…",
    layers: new Map(), // digest -> {total, completed, first: completed when first seen}
    done: 0,
    total: 0,
    percent: null, // null: not measurable yet (manifest, a layer not started)
    meter: new RateMeter(),
    rate: null, // bytes per second, null until the meter has enough to go on
    secondsLeft: null,
    error: "",
  };
}

export class Pulls {
  /**
   * @param {{api: {send: (frame: object) => boolean}, router: FrameRouter,
   *          onChange: (pull) => void,
   *          onFinished: (pull, outcome: "done"|"cancelled"|"error") => void}} o
   */
  constructor({ api, router, onChange, onFinished }) {
    this.api = api;
    this.router = router;
    this.onChange = onChange;
    this.onFinished = onFinished;
    this.pulls = new Map(); // request_id -> pull
  }

  /** Pulls shown now (running, cancelling or failed and not dismissed), oldest first. */
  all() {
    return [...this.pulls.values()];
  }

  running() {
    return this.all().filter((p) => p.state !== "error");
  }

  /** Start pulling `name` (a pull already running for it is returned instead). */
  start(name) {
    const wanted = name.trim();
    const same = this.running().find((p) => p.name === wanted);
    if (same) return { pull: same };
    const pull = newPull(wanted);
    const sent = this.api.send({
      type: "models.pull",
      request_id: pull.requestId,
      name: wanted,
    });
    if (!sent) return { error: "Not connected to the app — try again in a moment." };
    for (const old of this.all()) {
      if (old.state === "error" && old.name === wanted) this.pulls.delete(old.requestId);
    }
    this.pulls.set(pull.requestId, pull);
    this.router.own(pull.requestId, (frame) => this.onFrame(pull, frame));
    this.onChange(pull);
    return { pull };
  }

  cancel(requestId) {
    const pull = this.pulls.get(requestId);
    if (!pull || pull.state !== "running") return;
    pull.state = "cancelling";
    pull.status = "Stopping…";
    this.api.send({ type: "models.pull.cancel", request_id: requestId });
    this.onChange(pull);
  }

  /** Forget a failed pull (its message has been read). */
  dismiss(requestId) {
    const pull = this.pulls.get(requestId);
    if (pull && pull.state === "error") {
      this.pulls.delete(requestId);
      this.onChange(pull);
    }
  }

  /** A frame about one of our pulls (the router hands them over while it runs). */
  onFrame(pull, frame) {
    if (frame.type === "models.pull.progress") this.progress(pull, frame);
    else if (frame.type === "models.pull.done") this.finish(pull, "done");
    else if (frame.type === "models.pull.cancelled") this.finish(pull, "cancelled");
    else if (frame.type === "error") this.fail(pull, frame.message || frame.code);
  }

  progress(pull, frame) {
    if (pull.state === "error") return;
    if (pull.state === "running") pull.status = frame.status || pull.status;
    if (frame.digest && typeof frame.total === "number") {
      const completed = frame.completed || 0;
      const seen = pull.layers.get(frame.digest);
      pull.layers.set(frame.digest, { total: frame.total, completed, first: seen ? seen.first : completed });
      this.measure(pull);
    } else if (pull.layers.size && !frame.digest) {
      pull.percent = 100; // verifying, writing the manifest: every byte is here
    }
    this.onChange(pull);
  }

  /** Bytes, percent, speed and time left, from the layers seen so far. */
  measure(pull) {
    let done = 0;
    let total = 0;
    let fetched = 0; // only what came over the network: a layer on disk is complete at once
    for (const layer of pull.layers.values()) {
      done += layer.completed;
      total += layer.total;
      fetched += layer.completed - layer.first;
    }
    pull.done = done;
    pull.total = total;
    pull.percent = total > 0 ? Math.min(100, (done / total) * 100) : null;
    pull.meter.add(fetched, performance.now());
    pull.rate = pull.meter.rate();
    pull.secondsLeft = pull.meter.secondsFor(total - done);
  }

  finish(pull, outcome) {
    this.router.release(pull.requestId);
    this.pulls.delete(pull.requestId);
    this.onChange(pull);
    this.onFinished(pull, outcome);
  }

  fail(pull, message) {
    if (pull.state === "cancelling") {
      this.finish(pull, "cancelled");
      return;
    }
    this.router.release(pull.requestId);
    pull.state = "error";
    pull.error = message;
    this.onChange(pull);
    this.onFinished(pull, "error");
  }

  /** The socket closed: its pulls stopped with it (Ollama keeps what was downloaded). */
  socketClosed() {
    for (const pull of this.running()) {
      this.fail(pull, "The connection to the app dropped. Pull again to resume the download.");
    }
  }
}
