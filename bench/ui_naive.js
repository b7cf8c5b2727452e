// The naive renderer other chat UIs use, fed the same tokens: the whole reply is parsed,
// sanitised, highlighted and put into the DOM again on every animation frame (bench_ui.py).
async ({ tokens, delayMs, chunk }) => {
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
  const render = () => {
    box.innerHTML = DOMPurify.sanitize(marked.parse(text));
    for (const code of box.querySelectorAll("pre code")) hljs.highlightElement(code);
  };
  let text = "";
  let next = 0;
  let scheduled = false;
  const channel = new MessageChannel();
  await new Promise((resolve) => {
    const deliver = () => {
      const now = performance.now();
      if (!b.start) b.start = now;
      text += tokens.slice(next, next + chunk).join("");
      next += chunk;
      b.chunks += 1;
      b.lastChunk = now;
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
  const run = b.take();
  article.remove();
  return run;
};
