// Markdown for untrusted model output: marked -> DOMPurify -> KaTeX and highlight.js, and the
// code blocks' tools (codeblock.js).
import { marked } from "../vendor/marked/marked.esm.js";
import DOMPurify from "../vendor/dompurify/purify.es.mjs";
import { decorateCodeBlocks, highlightWhenIdle } from "./codeblock.js";
import { mathExtensions, typesetMaths } from "./math.js";
import { sectioned } from "./sections.js";
import { el } from "./util.js";

marked.setOptions({ gfm: true, breaks: false });
marked.use({ extensions: mathExtensions });

export { highlightWhenIdle };

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
 * Sanitised HTML to DOM nodes, maths typeset, code blocks highlighted and given their tools.
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
  typesetMaths(fragment);
  decorateCodeBlocks(fragment, { live: live || idle });
  const nodes = [...document.importNode(fragment, true).childNodes];
  if (idle) highlightWhenIdle(nodes);
  return nodes;
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

/** Render a whole (final) Markdown text into a container, its blocks in sections. */
export function renderMarkdown(container, markdown) {
  container.replaceChildren(...sectioned(toNodes(toSafeHtml(markdown))));
}
