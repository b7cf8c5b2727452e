// Injected before the app's page loads (bench_ui.py): records long tasks, animation frames,
// when the reply's frames arrive and when the final render is painted. Read-only on the app.
(() => {
  const b = (window.__bench = { longtasks: [] });
  let framing = false;
  const tick = (t) => {
    if (!framing) return;
    b.frames.push(t);
    requestAnimationFrame(tick);
  };
  // After the next paint: a task queued from a frame callback runs once that frame is drawn.
  const afterPaint = (done) => requestAnimationFrame(() => setTimeout(done, 0));

  b.reset = () => {
    Object.assign(b, {
      longtasks: [], frames: [], chunks: 0, chars: 0, start: 0, lastChunk: 0, complete: 0,
      finalPaint: 0, lastClick: 0, wantMessages: 0, openedPaint: 0,
    });
    if (!framing) {
      framing = true;
      requestAnimationFrame(tick);
    }
  };
  b.take = () => {
    framing = false;
    const { longtasks, frames, chunks, start, lastChunk, complete, finalPaint } = b;
    return { longtasks, frames, chunks, start, lastChunk, complete, finalPaint };
  };
  b.reset();
  framing = false;

  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) b.longtasks.push([e.startTime, e.duration]);
  }).observe({ type: "longtask", buffered: true });

  // Listening first (from the constructor), so the time is the start of the message's task.
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (event) => {
        const head = typeof event.data === "string" ? event.data.slice(0, 24) : "";
        const now = performance.now();
        if (head.includes('"chunk"')) {
          b.chunks += 1;
          b.chars += JSON.parse(event.data).delta?.length || 0; // how far the reply has come
          b.lastChunk = now;
        } else if (head.includes('"complete"')) {
          b.complete = now;
          performance.mark("stream-end"); // for a trace's windows (bench_ui.py --trace)
        } else if (head.includes('"start"')) {
          b.start = now;
          performance.mark("stream-start");
        }
      });
    }
  };

  document.addEventListener("click", () => (b.lastClick = performance.now()), true);

  // Only the reply's status while it streams: an observer of every node added anywhere
  // would cost the page a walk of the whole document per render, more as the reply grows.
  new MutationObserver(() => {
    const reply = document.querySelector("#messages-inner > article.message.assistant:last-of-type");
    if (b.complete && !b.finalPaint && reply && reply.dataset.status === "complete") {
      b.finalPaint = -1;
      afterPaint(() => (b.finalPaint = performance.now()));
    }
  }).observe(document, { subtree: true, attributes: true, attributeFilter: ["data-status"] });

  // Messages added, only while a conversation is being opened.
  const opening = new MutationObserver(() => {
    const shown = document.querySelectorAll("#messages-inner > article.message").length;
    if (b.wantMessages && shown >= b.wantMessages) {
      b.wantMessages = 0;
      opening.disconnect();
      afterPaint(() => (b.openedPaint = performance.now()));
    }
  });

  b.expectMessages = (n) => {
    b.wantMessages = n;
    opening.observe(document, { subtree: true, childList: true });
  };
  b.opened = () => ({
    ms: b.openedPaint - b.lastClick,
    longtasks: b.longtasks.filter(([t]) => t >= b.lastClick).map(([, d]) => d),
  });

  b.scrollToTop = (step) =>
    new Promise((resolve) => {
      const scroller = document.getElementById("messages");
      scroller.scrollTop = scroller.scrollHeight;
      const frames = [];
      let t0 = 0;
      let last = 0;
      const frame = (t) => {
        if (!t0) t0 = t;
        else frames.push(t - last);
        last = t;
        if (scroller.scrollTop > 0) {
          scroller.scrollTop -= step;
          requestAnimationFrame(frame);
          return;
        }
        // Long tasks are reported just after they end: wait for the last ones.
        setTimeout(() => resolve({
          ms: last - t0, frames,
          longtasks: b.longtasks.filter(([s]) => s >= t0).map(([, d]) => d),
        }), 200);
      };
      requestAnimationFrame(frame);
    });
})();
