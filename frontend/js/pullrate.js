// A download's speed and time left, smoothed so the numbers do not jump with each line
// Ollama sends (one per ~60 ms, in bursts): the average rate over the last WINDOW_MS, then
// an exponential moving average of that whose weight follows the time between lines, so
// bursty and steady streams settle on the same figure. Nothing is claimed before
// WINDOW_MS of downloading has been seen.
import { humanBytes } from "./format.js";

const WINDOW_MS = 2000; // the rate is measured over this much; "—" until it has passed
const HALF_LIFE_MS = 2000; // an older measurement counts half after this long

export class RateMeter {
  constructor() {
    this.samples = []; // {at, bytes} of the last WINDOW_MS, oldest first
    this.started = null; // when bytes began to move
    this.smoothed = null; // bytes per second
  }

  /**
   * Bytes downloaded so far (only ever growing), as of `at` (ms, a monotonic clock).
   * @param {number} bytes
   * @param {number} at
   */
  add(bytes, at) {
    const previous = this.samples[this.samples.length - 1];
    if (this.started === null) {
      // Waiting for the download to start (the manifest, a slow server) is no speed of 0.
      if (!previous || bytes <= previous.bytes) {
        this.samples = [{ at, bytes }];
        return;
      }
      this.started = previous.at;
    }
    if (at <= previous.at) return;
    this.samples.push({ at, bytes });
    while (at - this.samples[1].at >= WINDOW_MS) this.samples.shift();
    const oldest = this.samples[0];
    const windowRate = ((bytes - oldest.bytes) * 1000) / (at - oldest.at);
    if (at - this.started < WINDOW_MS) {
      this.smoothed = windowRate; // the average since the start: nothing older to blend
    } else {
      const weight = 1 - 2 ** (-(at - previous.at) / HALF_LIFE_MS);
      this.smoothed += weight * (windowRate - this.smoothed);
    }
  }

  /** Bytes per second, or null while there is not enough to go on. */
  rate() {
    if (this.started === null) return null;
    const last = this.samples[this.samples.length - 1];
    if (last.at - this.started < WINDOW_MS) return null;
    return this.smoothed > 0 ? this.smoothed : null;
  }

  /** Seconds until `remaining` more bytes are in at the current rate, or null. */
  secondsFor(remaining) {
    const rate = this.rate();
    return rate === null ? null : Math.max(0, remaining) / rate;
  }
}

/** "12.3 MB/s" (the units of the byte counts beside it), or "— MB/s". */
export function formatRate(bytesPerSecond) {
  return bytesPerSecond === null ? "— MB/s" : `${humanBytes(bytesPerSecond)}/s`;
}

/** "45 s left", "4 min left", "1 h 5 min left", or "— left". */
export function formatTimeLeft(seconds) {
  if (seconds === null) return "— left";
  if (seconds < 60) return `${Math.max(1, Math.ceil(seconds / 5) * 5)} s left`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min left`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min left`;
}
