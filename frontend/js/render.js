// Markdown for untrusted model output: marked -> DOMPurify -> highlight.js, plus copy buttons.
import { marked } from "../vendor/marked/marked.esm.js";
import DOMPurify from "../vendor/dompurify/purify.es.mjs";
import hljs from "../vendor/highlight/highlight.min.js";
import { icon } from "./icons.js";
import { el } from "./util.js";

marked.setOptions({ gfm: true, breaks: false });
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

const PURIFY_CONFIG = {
  // Model HTML must not restyle or take over the app, nor pretend to be a form.
  FORBID_TAGS: ["style", "form", "button", "textarea", "select", "option", "dialog"],
  FORBID_ATTR: ["style", "id", "name", "autofocus", "tabindex"],
};

DOMPurify.addHook("afterSanitizeAttributes", (node) => {
  if (node.tagName === "A" && node.hasAttribute("href")) {
    node.setAttribute("target", "_blank");
    node.setAttribute("rel", "noopener noreferrer");
  }
  if (node.tagName === "INPUT") node.setAttribute("disabled", "");
});

/** Markdown source to sanitised HTML (a string: cheap to compare). */
export function toSafeHtml(markdown) {
  return DOMPurify.sanitize(marked.parse(markdown), PURIFY_CONFIG);
}

/** Lexed top-level blocks to sanitised HTML. */
export function blocksHtml(tokens) {
  return DOMPurify.sanitize(marked.parser(tokens), PURIFY_CONFIG);
}

const templ = document.createElement("template");

/**
 * Sanitised HTML to DOM nodes, with code blocks highlighted and given a Copy button.
 * `live`: still growing, no language auto-detection; `idle`: auto-detection in idle time.
 */
export function toNodes(safeHtml, { live = false, idle = false } = {}) {
  templ.innerHTML = safeHtml;
  const fragment = templ.content;
  for (const img of fragment.querySelectorAll("img")) replaceImage(img);
  // Task-list checkboxes are the only inputs Markdown makes; anything else is model HTML.
  for (const input of fragment.querySelectorAll("input:not([type=checkbox])")) input.remove();
  for (const box of fragment.querySelectorAll("input[type=checkbox]")) labelTask(box);
  for (const table of fragment.querySelectorAll("table")) wrapTable(table);
  for (const code of fragment.querySelectorAll("pre > code")) decorateCode(code, live || idle);
  const nodes = [...document.importNode(fragment, true).childNodes];
  if (idle) highlightWhenIdle(nodes);
  return nodes;
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

// A model-written image would be fetched from wherever it points: a remote one leaks that the
// reply was read (and the CSP blocks it), a relative one asks this app for a file it does not
// have. Show a link to a remote image, a labelled placeholder otherwise; inline data: images
// need no request and stay.
function replaceImage(img) {
  const src = img.getAttribute("src") || "";
  if (/^data:image\//i.test(src)) return;
  const label = `Image: ${img.getAttribute("alt") || src || "no description"}`;
  if (/^(https?:)?\/\//i.test(src)) {
    const link = el("a", { href: src, target: "_blank", rel: "noopener noreferrer" });
    link.textContent = label;
    img.replaceWith(link);
    return;
  }
  img.replaceWith(el("span", { class: "img-placeholder", "data-testid": "image-placeholder" }, label));
}

// A task-list checkbox is named by its item's text (screen readers announce it with its state).
function labelTask(box) {
  const item = box.closest("li");
  const text = item ? item.textContent.trim().slice(0, 120) : "";
  box.setAttribute("aria-label", text || "Task");
}

// A table scrolls sideways in its own box (reachable by keyboard) so its words stay whole.
function wrapTable(table) {
  const wrap = el("div", {
    class: "table-wrap",
    role: "region",
    "aria-label": "Table",
    tabindex: "0",
    "data-testid": "table-wrap",
  });
  table.replaceWith(wrap);
  wrap.append(table);
}

function codeLanguage(code) {
  const match = /(?:^|\s)language-([\w+#.-]+)/.exec(code.className);
  return match ? match[1].toLowerCase() : "";
}

function decorateCode(code, live) {
  const lang = codeLanguage(code);
  const text = code.textContent;
  if (lang && hljs.getLanguage(lang)) {
    code.innerHTML = hljs.highlight(text, { language: lang, ignoreIllegals: true }).value;
    code.classList.add("hljs");
  } else if (!lang && !live) autoHighlight(code);
  const pre = code.parentElement;
  const copy = el(
    "button",
    { type: "button", class: "code-copy", "data-testid": "code-copy", "aria-label": "Copy code" },
    icon("copy"),
    el("span", { class: "label", text: "Copy" }),
  );
  const wrap = el(
    "button",
    {
      type: "button",
      class: "code-wrap",
      "data-testid": "code-wrap",
      "aria-pressed": "false",
      title: "Wrap long lines",
    },
    "Wrap",
  );
  const head = el(
    "div",
    { class: "code-head" },
    el("span", { class: "code-lang", text: lang }),
    el("span", { class: "code-tools" }, wrap, copy),
  );
  // Scrollable sideways: a tab stop, so the keyboard can scroll it too.
  pre.setAttribute("tabindex", "0");
  pre.setAttribute("role", "region");
  pre.setAttribute("aria-label", lang ? `Code (${lang})` : "Code");
  const block = el("div", { class: "code-block" }, head);
  pre.replaceWith(block);
  block.append(pre);
}

// Auto-detection tries every language: only once the block is final, and not on huge ones.
function autoHighlight(code) {
  const text = code.textContent;
  if (text.length >= 20000) return;
  const result = hljs.highlightAuto(text);
  if (result.relevance > 5) {
    code.innerHTML = result.value;
    code.classList.add("hljs");
  }
}

/** Render a whole (final) Markdown text into a container. */
export function renderMarkdown(container, markdown) {
  container.replaceChildren(...toNodes(toSafeHtml(markdown)));
}
