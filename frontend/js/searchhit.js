// A search hit inside a message: the query's matches marked in the message's text (the CSS
// Custom Highlight API: ranges painted over the text, the message's DOM untouched, so the
// Markdown renderer's elements stay its own), the first one brought to the middle of the
// view, and focus on the message. The words match as the backend's search does (see
// backend/core/store/search_text.py): runs of letters and digits, case and accents ignored,
// the last word of a piece still being typed matching as a prefix.

import { toastError } from "./toast.js";

const HIGHLIGHT = "search-hit";
const TOKEN = /[\p{L}\p{N}]+/gu;

const fold = (word) =>
  /^[\x00-\x7f]*$/.test(word)
    ? word.toLowerCase()
    : word.normalize("NFKD").replace(/\p{M}/gu, "").toLowerCase();

/** The pieces of a query: each a run of words that must stand side by side. */
export function parseQuery(q) {
  const phrases = [];
  for (const piece of q.split(/\s+/)) {
    const words = (piece.match(TOKEN) || []).map(fold);
    if (!words.length) continue;
    const typing = /[\p{L}\p{N}]$/u.test(piece) && words[words.length - 1].length >= 2;
    phrases.push({ words, prefix: typing });
  }
  return phrases;
}

/** [start, end] offsets in `text` of every match of `q`. */
export function findMatches(text, q) {
  const phrases = parseQuery(q);
  if (!phrases.length) return substringMatches(text, q.trim());
  const tokens = [...text.matchAll(TOKEN)].map((m) => ({
    start: m.index,
    end: m.index + m[0].length,
    word: fold(m[0]),
  }));
  const found = [];
  tokens.forEach((token, last) => {
    for (const { words, prefix } of phrases) {
      const first = last - words.length + 1;
      if (first < 0) continue;
      const ok = words.every((w, k) => {
        const have = tokens[first + k].word;
        return k === words.length - 1 && prefix ? have.startsWith(w) : have === w;
      });
      if (ok) found.push([tokens[first].start, token.end]);
    }
  });
  return found.sort((a, b) => a[0] - b[0]);
}

// A query of symbols only (🐧, ?!): the backend then looks for the text as typed.
function substringMatches(text, needle) {
  const found = [];
  if (!needle) return found;
  const hay = text.toLowerCase();
  const low = needle.toLowerCase();
  for (let at = hay.indexOf(low); at !== -1; at = hay.indexOf(low, at + low.length)) {
    found.push([at, at + low.length]);
  }
  return found;
}

// Text that is the app's, not the message's: a code block's language and buttons.
const CHROME = ".code-head, button, [aria-hidden=true]";
const BLOCK = "p, li, td, th, div, pre, h1, h2, h3, h4, h5, h6, blockquote, dt, dd, summary";

/** DOM ranges over `root`'s text for each match of `q`. */
export function matchRanges(root, q) {
  const nodes = [];
  const starts = [];
  let text = "";
  let block = null;
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, {
    acceptNode: (node) =>
      node.parentElement.closest(CHROME) ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT,
  });
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    // Words of neighbouring blocks (table cells, list items) must not run together; words
    // split by inline markup (pen<b>guin</b>) are one word, as on screen.
    const inBlock = node.parentElement.closest(BLOCK);
    if (inBlock !== block) text += " ";
    block = inBlock;
    starts.push(text.length);
    nodes.push(node);
    text += node.data;
  }
  const at = (offset) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return [nodes[lo], offset - starts[lo]];
  };
  return findMatches(text, q).map(([start, end]) => {
    const range = document.createRange();
    range.setStart(...at(start));
    const [node, offset] = at(end - 1); // the node that holds the last character
    range.setEnd(node, offset + 1);
    return range;
  });
}

let shown = 0; // counts hits shown: a newer one (or a clear) stops an older one moving the view

/** Remove the marks of the last hit shown. */
export function clearHit() {
  shown += 1;
  if (window.CSS && CSS.highlights) CSS.highlights.delete(HIGHLIGHT);
}

const nextFrame = () => new Promise((resolve) => requestAnimationFrame(() => resolve()));

/**
 * Mark `q`'s matches in `article` (a message element), bring the first to the middle of
 * `scroller` and focus the message. The marks stay until `clearHit()`. Returns the number
 * of matches marked.
 */
export async function showHit(article, q, scroller) {
  const content = article.querySelector("[data-testid=message-content]") || article;
  const ranges = matchRanges(content, q);
  clearHit();
  const mine = shown;
  if (ranges.length && window.CSS && CSS.highlights && window.Highlight) {
    CSS.highlights.set(HIGHLIGHT, new Highlight(...ranges));
  }
  if (ranges.length) await centre(ranges[0], scroller, () => mine === shown);
  else article.scrollIntoView({ block: "center" });
  if (mine !== shown) return 0; // the reader moved on meanwhile
  article.classList.remove("search-hit");
  void article.offsetWidth; // restart the flash when the same hit is opened again
  article.classList.add("search-hit");
  if (!article.hasAttribute("tabindex")) article.setAttribute("tabindex", "-1");
  article.focus({ preventScroll: true });
  return ranges.length;
}

// Messages and blocks off screen count at an estimated height (content-visibility) and
// their text has no real place until they come near; they turn real a frame later, and the
// browser's scroll anchoring may keep the match in place meanwhile while the page around it
// still changes. So: bring the match's own element near first, then move the view until
// the match stays put AND the page's height stops changing for two frames. Each move brings
// other blocks near: in a long reply full of code that takes a few dozen frames, so up to a
// second is allowed.
const MAX_FRAMES = 60;

async function centre(range, scroller, current) {
  const holder = range.startContainer.parentElement;
  if (holder) holder.scrollIntoView({ block: "center" });
  let still = 0;
  let height = scroller.scrollHeight;
  for (let tries = 0; tries < MAX_FRAMES && still < 2; tries += 1) {
    await nextFrame();
    if (!current()) return;
    const box = range.getBoundingClientRect();
    const view = scroller.getBoundingClientRect();
    const off = box.top + box.height / 2 - (view.top + view.height / 2);
    const settled = scroller.scrollHeight === height;
    height = scroller.scrollHeight;
    if (Math.abs(off) < 2 && box.height > 0 && settled) still += 1;
    else {
      still = 0;
      if (Math.abs(off) >= 2) scroller.scrollTop += off;
    }
  }
}

const messageNode = (id) =>
  document.querySelector(`#messages-inner [data-message-id="${CSS.escape(id)}"]`);

/**
 * Take the reader to message `id` of the open conversation and mark `q` in it. `drawAll`
 * draws the older messages not drawn yet; `showBranch` is called when the message is not
 * shown (a hit on another version) and should make it so; `onReveal` just before the view
 * moves. Returns whether the message was found.
 */
export async function revealMessage(id, q, { scroller, drawAll, showBranch, onReveal }) {
  drawAll();
  let node = messageNode(id);
  if (!node) {
    try {
      await showBranch();
    } catch (err) {
      toastError("Couldn't show that message", err);
      return false;
    }
    drawAll();
    node = messageNode(id);
  }
  if (!node) return false;
  onReveal();
  await showHit(node, q, scroller);
  return true;
}
