// The naive renderer other chat UIs use, fed the same tokens: the whole reply is parsed,
// sanitised, highlighted and put into the DOM again on every animation frame (bench_ui.py).
// It starts the run and returns at once; the result appears as `window.__naiveRun`, so the
// caller can give up on a run that never ends (the main thread may be busy for minutes).
({ tokens, delayMs, chunk }) => {
  window.__naiveRun = null;
  (async () => {
    const { marked } = await import("/vendor/marked/marked.esm.js");
    const DOMPurify = (await import("/vendor/dompurify/purify.es.mjs")).default;
    const hljs = (await import("/vendor/highlight/highlight.min.js")).default;
    const article = document.createElement("article");
    article.className = "message assistant";
    const box = document.createElement("div");
    box.className = "markdown";
    article.append(box);
    document.getElementById("messages-inner").append(article);
    const b = window.__bench;
    let text = "";
    let next = 0;
    let scheduled = false;
    const render = () => {
      box.innerHTML = DOMPurify.sanitize(marked.parse(text));
      for (const code of box.querySelectorAll("pre code")) hljs.highlightElement(code);
      document.getElementById("messages").scrollTop = 1e9; // follow the reply, as chat UIs do
    };
    const channel = new MessageChannel();
    const started = performance.now();
    await new Promise((resolve) => {
      // Tokens arrive on the network's schedule, not the page's: `chunk` tokens every
      // `delayMs`, and those that came in while the main thread was busy are all there at
      // the next turn, as socket messages would be.
      const deliver = () => {
        const now = performance.now();
        if (!b.start) b.start = now;
        const due = delayMs ? (Math.floor((now - started) / delayMs) + 1) * chunk : next + chunk;
        const upTo = Math.min(tokens.length, due);
        if (upTo > next) {
          text += tokens.slice(next, upTo).join("");
          next = upTo;
          b.chars = text.length;
          b.chunks += 1;
          b.lastChunk = now;
        }
        if (!scheduled) {
          scheduled = true;
          requestAnimationFrame(() => {
            scheduled = false;
            render();
          });
        }
        if (next < tokens.length) {
          if (delayMs) setTimeout(deliver, delayMs);
          else channel.port2.postMessage(0);
          return;
        }
        b.complete = performance.now();
        render(); // the final render, as the app's `complete` frame triggers
        requestAnimationFrame(() => setTimeout(() => {
          b.finalPaint = performance.now();
          resolve();
        }, 0));
      };
      channel.port1.onmessage = deliver;
      deliver();
    });
    await new Promise((resolve) => setTimeout(resolve, 200)); // the last long tasks' reports
    const result = b.take();
    article.remove();
    window.__naiveRun = result;
  })();
};
