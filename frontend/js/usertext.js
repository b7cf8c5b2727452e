// A user's message as they typed it: plain text (their `*`, `_` and `#` stay as typed, as
// ChatGPT shows them), except code: fenced blocks become code blocks with the reply's tools,
// and `inline code` is set in a code font. Fences and code spans follow CommonMark.
import { decorateCodeBlocks } from "./codeblock.js";
import { el } from "./util.js";

const FENCE_OPEN = /^ {0,3}(`{3,}|~{3,})[ \t]*([^\s`]*)[^`\n]*$/;
// A backtick run, then the shortest text that ends in a run of the same length.
const CODE_SPAN = /(?<!`)(`+)(?!`)([\s\S]*?[^`])\1(?!`)/g;

/** The nodes that show a user's `text`, and whether any of it is code. */
export function userTextNodes(text) {
  const nodes = [];
  let hasCode = false;
  for (const part of splitFences(text)) {
    if (part.fence) {
      nodes.push(codeBlock(part.code, part.lang));
      hasCode = true;
    } else {
      const inline = codeSpans(part.text);
      hasCode ||= inline.some((node) => node.nodeType === Node.ELEMENT_NODE);
      nodes.push(...inline);
    }
  }
  return { nodes, hasCode };
}

// [{text}, {fence: true, code, lang}, …]: an unclosed fence runs to the end, as in Markdown.
function splitFences(text) {
  const parts = [];
  const lines = text.split("\n");
  let plain = [];
  let i = 0;
  while (i < lines.length) {
    const open = FENCE_OPEN.exec(lines[i]);
    if (!open) {
      plain.push(lines[i]);
      i += 1;
      continue;
    }
    const marker = open[1];
    const close = new RegExp(`^ {0,3}${marker[0] === "`" ? "`" : "~"}{${marker.length},}[ \\t]*$`);
    let end = i + 1;
    while (end < lines.length && !close.test(lines[end])) end += 1;
    if (plain.length) parts.push({ text: plain.join("\n") });
    plain = [];
    parts.push({ fence: true, lang: open[2].toLowerCase(), code: lines.slice(i + 1, end).join("\n") });
    i = end + 1;
  }
  if (plain.length) parts.push({ text: plain.join("\n") });
  return parts;
}

function codeSpans(text) {
  const nodes = [];
  let at = 0;
  for (const match of text.matchAll(CODE_SPAN)) {
    if (match.index > at) nodes.push(document.createTextNode(text.slice(at, match.index)));
    let code = match[2];
    // CommonMark: one space each side is padding, when both are there and it is not all space.
    if (/^ [\s\S]* $/.test(code) && code.trim()) code = code.slice(1, -1);
    nodes.push(el("code", { class: "user-code", text: code }));
    at = match.index + match[0].length;
  }
  if (at < text.length) nodes.push(document.createTextNode(text.slice(at)));
  return nodes;
}

function codeBlock(code, lang) {
  const holder = document.createElement("div");
  const codeElement = el("code", { class: lang ? `language-${lang}` : null, text: `${code}\n` });
  holder.append(el("pre", {}, codeElement));
  decorateCodeBlocks(holder);
  return holder.firstElementChild;
}
