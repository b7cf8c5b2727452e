// Code blocks: highlight.js colours, each line in a span of its own (line numbers beside even
// wrapped lines), and the tools above the code: Wrap, Lines, Download and Copy (main.js
// handles their clicks).
import hljs from "../vendor/highlight/highlight.min.js";
import { icon } from "./icons.js";
import { el } from "./util.js";

hljs.configure({ ignoreUnescapedHTML: true });

// highlight.js compiles a grammar on its first use: the first block without a language
// compiles all of them (~170 ms), one long task in the middle of a streaming reply. Compile
// them beforehand while the page is idle, one a slot (the largest takes ~40 ms).
function compileGrammars(languages) {
  if (!languages.length) return;
  requestIdleCallback(() => {
    hljs.highlight("", { language: languages.shift(), ignoreIllegals: true });
    compileGrammars(languages);
  });
}
compileGrammars(hljs.listLanguages());

// Line numbers are shown on blocks longer than this (a one-liner needs none).
const NUMBERED_FROM = 4;

// File name extensions for Download, by the fence's language (and its usual aliases).
const EXTENSIONS = {
  bash: "sh",
  c: "c",
  cpp: "cpp",
  "c++": "cpp",
  csharp: "cs",
  "c#": "cs",
  cs: "cs",
  css: "css",
  diff: "diff",
  dockerfile: "Dockerfile",
  go: "go",
  html: "html",
  ini: "ini",
  java: "java",
  javascript: "js",
  js: "js",
  json: "json",
  jsx: "jsx",
  kotlin: "kt",
  latex: "tex",
  lua: "lua",
  makefile: "mk",
  markdown: "md",
  md: "md",
  php: "php",
  powershell: "ps1",
  ps1: "ps1",
  python: "py",
  py: "py",
  r: "r",
  ruby: "rb",
  rb: "rb",
  rust: "rs",
  rs: "rs",
  scss: "scss",
  sh: "sh",
  shell: "sh",
  sql: "sql",
  swift: "swift",
  toml: "toml",
  ts: "ts",
  tsx: "tsx",
  typescript: "ts",
  xml: "xml",
  yaml: "yaml",
  yml: "yaml",
  zsh: "sh",
};

/** The file name Download gives a block in this language: "snippet.py", "snippet.txt". */
export function snippetName(lang) {
  const extension = EXTENSIONS[lang] || "txt";
  return extension === "Dockerfile" ? extension : `snippet.${extension}`;
}

export function codeLanguage(code) {
  const match = /(?:^|\s)language-([\w+#.-]+)/.exec(code.className);
  return match ? match[1].toLowerCase() : "";
}

/** Highlight, split into lines and give tools to every `pre > code` in `root`. */
export function decorateCodeBlocks(root, { live = false } = {}) {
  for (const code of root.querySelectorAll("pre > code")) decorateCode(code, live);
}

// Auto-detection takes 10-40 ms a block: in a streaming reply it gets a task of its own
// rather than lengthening the frame that shows the block.
export function highlightWhenIdle(nodes) {
  for (const node of nodes) {
    if (node.nodeType !== Node.ELEMENT_NODE) continue;
    for (const code of node.querySelectorAll("pre > code")) {
      if (!codeLanguage(code)) requestIdleCallback(() => autoHighlight(code), { timeout: 1000 });
    }
  }
}

function decorateCode(code, live) {
  const lang = codeLanguage(code);
  const text = code.textContent;
  if (lang && hljs.getLanguage(lang)) {
    setHighlighted(code, hljs.highlight(text, { language: lang, ignoreIllegals: true }).value);
  } else if (!lang && !live) autoHighlight(code);
  if (!code.classList.contains("hljs")) code.innerHTML = linesHtml(escapeHtml(text));
  const lineCount = code.childElementCount;
  const numbered = lineCount >= NUMBERED_FROM;
  const pre = code.parentElement;
  // Scrollable sideways: a tab stop, so the keyboard can scroll it too.
  pre.setAttribute("tabindex", "0");
  pre.setAttribute("role", "region");
  pre.setAttribute("aria-label", lang ? `Code (${lang})` : "Code");
  const digits = Math.max(2, String(lineCount).length); // the line numbers' gutter, in ch
  const block = el(
    "div",
    { class: numbered ? "code-block numbered" : "code-block", "data-digits": digits },
    codeHead(lang, numbered),
  );
  pre.replaceWith(block);
  block.append(pre);
}

// The head above every code block is the same but for its language: built once, then cloned
// (a reply opened with dozens of blocks builds no buttons).
let headPrototype = null;

function codeHead(lang, numbered) {
  headPrototype ??= el(
    "div",
    { class: "code-head" },
    el("span", { class: "code-lang" }),
    el("span", { class: "code-tools" }, ...tools()),
  );
  const head = headPrototype.cloneNode(true);
  head.firstChild.textContent = lang;
  head.querySelector(".code-lines").setAttribute("aria-pressed", String(numbered));
  const download = head.querySelector(".code-download");
  const filename = snippetName(lang);
  download.setAttribute("aria-label", `Download code as ${filename}`);
  download.setAttribute("title", filename);
  download.dataset.filename = filename;
  return head;
}

function tools() {
  const toggle = (kind, label, title) =>
    el(
      "button",
      { type: "button", class: `code-${kind}`, "data-testid": `code-${kind}`, "aria-pressed": "false", title },
      label,
    );
  const action = (kind, label, iconName, name) =>
    el(
      "button",
      { type: "button", class: `code-${kind}`, "data-testid": `code-${kind}`, "aria-label": name },
      icon(iconName),
      el("span", { class: "label", text: label }),
    );
  return [
    toggle("wrap", "Wrap", "Wrap long lines"),
    toggle("lines", "Lines", "Show line numbers"),
    action("download", "Download", "download", "Download code"),
    action("copy", "Copy", "copy", "Copy code"),
  ];
}

// Auto-detection tries every language: only once the block is final, and not on huge ones.
function autoHighlight(code) {
  const text = code.textContent;
  if (text.length >= 20000) return;
  const result = hljs.highlightAuto(text);
  if (result.relevance > 5) setHighlighted(code, result.value);
}

function setHighlighted(code, html) {
  code.innerHTML = linesHtml(html);
  code.classList.add("hljs");
}

const escapeHtml = (text) =>
  text.replace(/[&<>]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;" })[c]);

// highlight.js's HTML: its spans, their ends, and escaped text between them.
const HIGHLIGHT_PIECES = /(<span[^>]*>)|(<\/span>)|([^<]+)/g;

/**
 * Code HTML (highlight.js's, or escaped text) with each line in a `span.line` of its own, its
 * line end included (the text, and so Copy, stays the same). A highlighting span that crosses
 * a line end is closed at it and opened again on the next line. Done on the string: one
 * innerHTML, not a node at a time.
 */
function linesHtml(html) {
  const lines = [];
  const open = [];
  let line = "";
  let hasText = false;
  for (const [, start, end, text] of html.matchAll(HIGHLIGHT_PIECES)) {
    if (start) {
      open.push(start);
      line += start;
    } else if (end) {
      open.pop();
      line += end;
    } else {
      const parts = text.split("\n");
      line += parts[0];
      hasText ||= parts[0] !== "";
      for (const part of parts.slice(1)) {
        lines.push(`${line}${"</span>".repeat(open.length)}\n`);
        line = open.join("") + part;
        hasText = part !== "";
      }
    }
  }
  if (hasText) lines.push(line + "</span>".repeat(open.length));
  return lines.map((content) => `<span class="line">${content}</span>`).join("");
}
