// Puts a conversation's messages into the list. Elements already shown stay where they are
// (no restyle or relayout of the whole list, focus kept). In a long conversation the newest
// messages are drawn at once and the older ones above them in background slices: a rendered
// reply takes ~1 ms to build, so a few hundred in one task would freeze the page.

const ALL_AT_ONCE = 40; // a conversation this short is drawn whole, in one task
const FIRST_MIN = 6; // in a longer one: at least the newest few…
const FIRST_MS = 20; // …and more while this lasts (already shown elements cost nothing)
const SLICE_MS = 16; // a slice stops after this: a frame's worth, far from a long task (50 ms)

/** Make `list`'s children exactly `nodes`, in order, moving only those out of place. */
export function patchChildren(list, nodes) {
  const wanted = new Set(nodes);
  for (const child of [...list.childNodes]) if (!wanted.has(child)) child.remove();
  let cursor = list.firstChild;
  for (const node of nodes) {
    if (node === cursor) cursor = cursor.nextSibling;
    else list.insertBefore(node, cursor);
  }
}

export class ListDrawer {
  /** @param {HTMLElement} list the message list */
  constructor(list) {
    this.list = list;
    this.job = null; // the older messages still to draw: {messages, nodeFor, done, head}
  }

  /**
   * Show `messages` (oldest first) then `tail` (elements that are not stored messages yet).
   * `nodeFor(m)` gives a message's element (a kept one, or a new one); `done(pairs)` is called
   * with the [message, element] pairs drawn, now and in each later slice.
   */
  show(messages, { nodeFor, tail = [], done }) {
    this.cancel();
    const started = performance.now();
    let i = messages.length;
    const pairs = [];
    const more = () =>
      messages.length <= ALL_AT_ONCE ||
      pairs.length < FIRST_MIN ||
      performance.now() - started < FIRST_MS;
    while (i > 0 && more()) {
      i -= 1;
      pairs.push([messages[i], nodeFor(messages[i])]);
    }
    pairs.reverse();
    patchChildren(this.list, [...pairs.map(([, node]) => node), ...tail]);
    done(pairs);
    if (i === 0) return;
    this.job = { messages: messages.slice(0, i), nodeFor, done, head: pairs[0][1] };
    this.schedule(this.job);
  }

  cancel() {
    this.job = null;
  }

  /** Draw every message still waiting, now (e.g. to reveal one of them). */
  drawAll() {
    if (this.job) this.slice(this.job, Infinity);
  }

  // A background task (under user input and rendering, not only when idle: idle periods are
  // short while anything animates) for each slice, so frames keep coming between slices.
  schedule(job) {
    const run = () => {
      if (job !== this.job) return;
      this.slice(job, SLICE_MS);
      if (this.job === job) this.schedule(job);
    };
    if (window.scheduler && scheduler.postTask) scheduler.postTask(run, { priority: "background" });
    else setTimeout(run, 0);
  }

  /** Draw the newest of the waiting messages for `budget` ms, above those already shown. */
  slice(job, budget) {
    // The list was emptied or cut above the messages drawn so far: the rest does not belong.
    if (job.head.parentNode !== this.list) {
      this.job = null;
      return;
    }
    const started = performance.now();
    const pairs = [];
    const { messages } = job;
    while (messages.length && (!pairs.length || performance.now() - started < budget)) {
      const m = messages.pop();
      pairs.push([m, job.nodeFor(m)]);
    }
    pairs.reverse();
    job.head.before(...pairs.map(([, node]) => node));
    job.head = pairs[0][1];
    if (!messages.length) this.job = null;
    job.done(pairs);
  }
}
