// One offscreen polite live region: a screen reader hears "Reply complete" once, not every token.

let timer = null;

/** Say `text` to screen readers (the same text twice in a row is still announced). */
export function announce(text) {
  const region = document.getElementById("announcer");
  if (!region) return;
  clearTimeout(timer);
  region.textContent = "";
  // A change in a later task is what makes the reader notice a repeated message.
  timer = setTimeout(() => {
    region.textContent = text;
  }, 60);
}
