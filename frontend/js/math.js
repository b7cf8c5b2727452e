// Maths in Markdown: `$…$` and `\(…\)` inline, `$$…$$` and `\[…\]` displayed. marked turns
// them into placeholders that hold the TeX as text (sanitised with the rest of the reply);
// typesetMaths() then sets KaTeX (vendor/katex, loaded by index.html) into them, its output
// sanitised again. Code spans and code blocks never get maths: marked lexes them first.
import DOMPurify from "../vendor/dompurify/purify.es.mjs";

// Inline: `$$…$$` (displayed), `\(…\)`, `\[…\]` (displayed), then `$…$` with the usual rules
// that keep prices as text ("$5 and $10"): no space after the opening `$`, none before the
// closing one, and no digit right after it. No backticks inside: a code span wins.
const INLINE =
  /^(?:\$\$((?:\\[^`]|[^\\$`])+?)\$\$|\\\(((?:\\(?!\))[^`]|[^\\`])+?)\\\)|\\\[((?:\\(?!\])[^`]|[^\\`])+?)\\\]|\$(?![\s$])((?:\\[^`]|[^\\$`])+?)(?<!\s)\$(?!\d))/;
const INLINE_START = /\$|\\[([]/;

// A displayed formula alone on its lines (no blank line inside): a block of its own.
const BLOCK =
  /^ {0,3}(?:\$\$((?:\\[\s\S]|[^\\$])+?)\$\$|\\\[((?:\\(?!\])[\s\S]|[^\\])+?)\\\])[ \t]*(?:\n|$)/;
const BLANK_LINE = /\n[ \t]*\n/;

// Where the first line that opens a displayed formula starts. marked asks this of the rest of
// the text at every paragraph: indexOf, not a regular expression, keeps that cheap.
function blockStart(src) {
  let first;
  for (const opener of ["$$", "\\["]) {
    for (let at = src.indexOf(opener); at >= 0; at = src.indexOf(opener, at + 2)) {
      const line = src.lastIndexOf("\n", at - 1) + 1;
      if (at - line > 3 || src.slice(line, at).trim()) continue;
      if (first === undefined || line < first) first = line;
      break;
    }
  }
  return first;
}

const escapeHtml = (text) =>
  text.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);

function placeholder(tag, tex, display) {
  const kind = display ? "math-display" : "math-inline";
  return `<${tag} class="math-tex ${kind}">${escapeHtml(tex.trim())}</${tag}>`;
}

/** marked extensions for maths (use with `marked.use({ extensions })`). */
export const mathExtensions = [
  {
    name: "mathBlock",
    level: "block",
    start: blockStart,
    tokenizer(src) {
      const match = BLOCK.exec(src);
      const tex = match && (match[1] ?? match[2]);
      if (!tex || !tex.trim() || BLANK_LINE.test(tex)) return undefined;
      return { type: "mathBlock", raw: match[0], tex };
    },
    renderer: (token) => `${placeholder("div", token.tex, true)}\n`,
  },
  {
    name: "mathInline",
    level: "inline",
    start(src) {
      const index = src.search(INLINE_START);
      return index < 0 ? undefined : index;
    },
    tokenizer(src) {
      const match = INLINE.exec(src);
      // "$$" that does not close is text, both signs: its second must not open `$…$`.
      if (!match) return src.startsWith("$$") ? { type: "text", raw: "$$", text: "$$" } : undefined;
      const [raw, displayDollars, paren, bracket, dollar] = match;
      const tex = displayDollars ?? paren ?? bracket ?? dollar;
      if (!tex.trim()) return undefined;
      const display = displayDollars !== undefined || bracket !== undefined;
      return { type: "mathInline", raw, tex, display };
    },
    renderer: (token) => placeholder("span", token.tex, token.display),
  },
];

/**
 * Where, in streamed text, a displayed formula has opened on a line of its own and not closed
 * yet (-1: none). Until it closes, the blocks from that line on may still become one formula,
 * so a streaming render must not treat them as final. A blank line ends the chance (a formula
 * never spans one), and so does a very long wait (the final check re-renders if needed).
 */
export function pendingMathStart(text) {
  const opener = /(?:^|\n)( {0,3})(\$\$|\\\[)/g;
  let match;
  while ((match = opener.exec(text))) {
    const start = match.index + (match[0].startsWith("\n") ? 1 : 0);
    const body = match.index + match[0].length;
    const close = text.indexOf(match[2] === "$$" ? "$$" : "\\]", body);
    const blank = text.slice(body).search(BLANK_LINE);
    const blankAt = blank < 0 ? -1 : body + blank;
    if (close >= 0 && (blankAt < 0 || close < blankAt)) opener.lastIndex = close + 2;
    else if (blankAt >= 0) opener.lastIndex = blankAt + 1;
    else return text.length - start > 8000 ? -1 : start;
  }
  return -1;
}

// KaTeX's output is sanitised too: its inline styles (sizes, positions) and MathML for screen
// readers stay; the TeX annotation inside the MathML goes (the formula is already there).
const KATEX_PURIFY = {
  ADD_TAGS: ["semantics"],
  ADD_FORBID_CONTENTS: ["annotation"],
  FORBID_TAGS: ["style", "form", "button", "textarea", "select", "option", "dialog", "a", "img"],
  FORBID_ATTR: ["id", "name", "autofocus", "tabindex", "href", "src"],
};
const KATEX_OPTIONS = {
  throwOnError: false, // a bad formula comes back marked as an error, not as an exception
  trust: false, // no \href, \url, \includegraphics, \htmlClass…
  strict: "ignore",
  output: "htmlAndMathml",
  maxSize: 50,
  maxExpand: 500,
};

// A streaming reply typesets the open block again every frame: the same formulas, cached.
const typeset = new Map();
const CACHE_SIZE = 400;

function typesetHtml(tex, display) {
  const key = `${display ? "D" : "I"}${tex}`;
  let html = typeset.get(key);
  if (html === undefined) {
    const raw = globalThis.katex.renderToString(tex, { ...KATEX_OPTIONS, displayMode: display });
    html = DOMPurify.sanitize(raw, KATEX_PURIFY);
    if (typeset.size >= CACHE_SIZE) typeset.delete(typeset.keys().next().value);
  }
  typeset.delete(key);
  typeset.set(key, html); // the most recent last: the oldest is the one dropped
  return html;
}

/** Typeset the maths placeholders in `root`. A bad formula stays TeX, as code, its error in a tooltip. */
export function typesetMaths(root) {
  if (!globalThis.katex) return;
  for (const node of root.querySelectorAll(".math-tex")) {
    const tex = node.textContent;
    const display = node.classList.contains("math-display");
    node.innerHTML = typesetHtml(tex, display);
    // A displayed formula wider than the reply scrolls sideways: a tab stop, for the keyboard.
    if (display) node.setAttribute("tabindex", "0");
    const error = node.querySelector(".katex-error");
    if (error) {
      const code = document.createElement("code");
      code.className = "math-error";
      code.textContent = tex;
      code.title = error.title || "This formula could not be typeset";
      node.replaceChildren(code);
    }
  }
}
