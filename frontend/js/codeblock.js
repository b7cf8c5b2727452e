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
  if (!code.classList.contains("hljs")) splitLines(code);
  const lineCount = code.childElementCount;
  const pre = code.parentElement;
  const head = el(
    "div",
    { class: "code-head" },
    el("span", { class: "code-lang", text: lang }),
    el("span", { class: "code-tools" }, ...tools(lang, lineCount >= NUMBERED_FROM)),
  );
  // Scrollable sideways: a tab stop, so the keyboard can scroll it too.
  pre.setAttribute("tabindex", "0");
  pre.setAttribute("role", "region");
  pre.setAttribute("aria-label", lang ? `Code (${lang})` : "Code");
  const numbered = lineCount >= NUMBERED_FROM ? " numbered" : "";
  const digits = Math.max(2, String(lineCount).length); // the line numbers' gutter, in ch
  const block = el("div", { class: `code-block${numbered}`, "data-digits": digits }, head);
  pre.replaceWith(block);
  block.append(pre);
}

function tools(lang, numbered) {
  const toggle = (kind, label, title, pressed) =>
    el(
      "button",
      {
        type: "button",
        class: `code-${kind}`,
        "data-testid": `code-${kind}`,
        "aria-pressed": String(pressed),
        title,
      },
      label,
    );
  const action = (kind, name, label, iconName, extra = {}) =>
    el(
      "button",
      { type: "button", class: `code-${kind}`, "data-testid": `code-${kind}`, "aria-label": name, ...extra },
      icon(iconName),
      el("span", { class: "label", text: label }),
    );
  const filename = snippetName(lang);
  return [
    toggle("wrap", "Wrap", "Wrap long lines", false),
    toggle("lines", "Lines", "Show line numbers", numbered),
    action("download", `Download code as ${filename}`, "Download", "download", {
      "data-filename": filename,
      title: filename,
    }),
    action("copy", "Copy code", "Copy", "copy"),
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
  code.innerHTML = html;
  code.classList.add("hljs");
  splitLines(code);
}

/**
 * Put each line of `code` in a `span.line` of its own, its line end included (the text, and
 * so Copy, stays the same). A highlighting span that crosses a line end is split in two.
 */
function splitLines(code) {
  const lines = [];
  let line = newLine();
  let open = []; // [highlighting element, its copy in this line], outermost first
  const addText = (text, ancestors) => {
    let same = 0;
    while (same < open.length && same < ancestors.length && open[same][0] === ancestors[same]) {
      same += 1;
    }
    open = open.slice(0, same);
    for (const element of ancestors.slice(same)) {
      const copy = element.cloneNode(false);
      (open.length ? open[open.length - 1][1] : line).append(copy);
      open.push([element, copy]);
    }
    (open.length ? open[open.length - 1][1] : line).append(text);
  };
  const walk = (node, ancestors) => {
    for (const child of node.childNodes) {
      if (child.nodeType === Node.ELEMENT_NODE) walk(child, [...ancestors, child]);
      else if (child.nodeType === Node.TEXT_NODE) {
        child.nodeValue.split("\n").forEach((part, i) => {
          if (i > 0) {
            line.append("\n");
            lines.push(line);
            line = newLine();
            open = [];
          }
          if (part) addText(part, ancestors);
        });
      }
    }
  };
  walk(code, []);
  if (line.childNodes.length) lines.push(line);
  code.replaceChildren(...lines);
}

function newLine() {
  const line = document.createElement("span");
  line.className = "line";
  return line;
}
