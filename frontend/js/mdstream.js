// A streaming reply's Markdown, at a cost per frame that depends on the new text only: the
// text arrives as deltas (never the whole reply again), top-level blocks that are followed by
// another block are final (built once, never touched again), and only the open block is
// lexed again; its DOM is patched in place (the text that grew, the nodes that are new), so
// the browser restyles and lays out what changed, not a freshly built block every frame.
// Blocks sit in sections (sections.js) as in a whole render; only the last section changes.
import { Lexer, marked } from "../vendor/marked/marked.esm.js";
import { blocksHtml, highlightWhenIdle, renderMarkdown, toNodes, toSafeHtml } from "./render.js";
import { pendingMathStart } from "./math.js";
import { morphChildren } from "./morph.js";
import { groupBlocks, placeInSections } from "./sections.js";

export class MarkdownStream {
  constructor(container) {
    this.container = container;
    this.final = ""; // text of the final blocks, and…
    this.open = ""; // …of the blocks that are not final yet (line ends normalised)
    this.endsWithCR = false; // the last delta ended in "\r": a "\n" first in the next is its pair
    this.stableHtml = []; // sanitised HTML of the final blocks, to verify the final render
    this.links = {}; // reference definitions in final blocks: later blocks still use them
    this.references = "{}"; // every definition so far, final or open, as JSON
    this.finalNodes = []; // the final blocks' nodes, in order
    this.frozenSections = 0; // sections whose blocks are all final and followed by another's
    this.frozenNodes = 0; // final nodes in those sections
    this.tailNodes = [];
    this.tailHtml = "";
  }

  /** Add newly streamed text and render it (once per animation frame, or per late frame). */
  append(delta) {
    this.open += this.normalise(delta);
    this.render();
  }

  // "\r\n" and "\r" become "\n" as in a whole render, even when a delta ends between them.
  normalise(delta) {
    const text = this.endsWithCR && delta.startsWith("\n") ? delta.slice(1) : delta;
    this.endsWithCR = delta.endsWith("\r");
    return text.replace(/\r\n?/g, "\n");
  }

  render() {
    const lexer = new Lexer(marked.defaults);
    Object.assign(lexer.tokens.links, this.links);
    const tokens = lexer.lex(this.open);
    let last = tokens.length - 1;
    while (last >= 0 && tokens[last].type === "space") last -= 1;
    // A displayed formula still open ("$$" with no end yet) may yet join the blocks after
    // its first line into one: they stay open with the last one until it closes.
    const held = pendingMathStart(this.open);
    let used = 0;
    let first = 0;
    const final = [];
    for (; first < last; first += 1) {
      const token = tokens[first];
      if (held >= 0 && used + token.raw.length > held) break;
      used += token.raw.length;
      if (token.type === "def") this.links[token.tag] ??= { href: token.href, title: token.title };
      else if (token.type !== "space") final.push(token);
    }
    this.final += this.open.slice(0, used);
    this.open = this.open.slice(used);
    if (final.length) this.appendFinal(final);
    if (this.renderOpen(tokens.slice(first, last + 1)) || final.length) this.place();
    const references = JSON.stringify(tokens.links);
    if (references === this.references) return;
    this.references = references;
    if (this.stableHtml.length) this.redrawFinal(tokens.links);
  }

  // A reference definition (`[label]: url`) links the uses of its label above it too. Models
  // seldom write them, so the final blocks are rendered again then (while the definition
  // grows too), patched in place.
  redrawFinal(links) {
    const lexer = new Lexer(marked.defaults);
    Object.assign(lexer.tokens.links, links);
    const tokens = lexer.lex(this.final).filter((t) => t.type !== "space" && t.type !== "def");
    const html = blocksHtml(tokens);
    this.stableHtml = [html];
    this.finalNodes = morphChildren(this.container, this.finalNodes, toNodes(html, { live: true }));
    this.frozenSections = 0;
    this.frozenNodes = 0;
    this.place();
    highlightWhenIdle(this.finalNodes);
  }

  // The blocks after the frozen sections into their sections; a section is frozen once its
  // blocks are final and a later section has a final block too (it can never change again).
  place() {
    const groups = groupBlocks([...this.finalNodes.slice(this.frozenNodes), ...this.tailNodes]);
    placeInSections(this.container, groups, this.frozenSections);
    let finalLeft = this.finalNodes.length - this.frozenNodes;
    for (const group of groups.slice(0, -1)) {
      if (finalLeft <= group.length) break;
      finalLeft -= group.length;
      this.frozenSections += 1;
      this.frozenNodes += group.length;
    }
  }

  // The blocks that became final since the last frame, sanitised and built together: a reply
  // arriving faster than frames finishes hundreds of blocks at once, and each separate
  // sanitise and parse costs about as much again as the block itself. The open block's nodes
  // become the first final block's when they match (a paragraph that just ended is kept).
  appendFinal(tokens) {
    const html = blocksHtml(tokens);
    this.stableHtml.push(html);
    const nodes = toNodes(html, { live: true });
    const kept = Math.min(this.tailNodes.length, nodes.length);
    const reused = morphChildren(this.container, this.tailNodes, nodes.slice(0, kept));
    const added = nodes.slice(kept);
    this.container.append(...added);
    this.finalNodes.push(...reused, ...added);
    this.tailNodes = [];
    this.tailHtml = "";
    highlightWhenIdle([...reused, ...added]); // auto-detection in a task of its own
  }

  /** The open blocks drawn; false if they are as drawn already. */
  renderOpen(tokens) {
    const shown = tokens.filter((t) => t.type !== "def" && t.type !== "space");
    const html = shown.length ? blocksHtml(shown) : "";
    if (html === this.tailHtml) return false;
    this.tailHtml = html;
    const nodes = toNodes(html, { live: true });
    this.tailNodes = morphChildren(this.container, this.tailNodes, nodes);
    return true;
  }

  /**
   * The reply is over: `text` is its whole content. The open block is final as it is (code
   * without a language gets its auto-detection when idle). Block-by-block output can differ
   * from a whole-document render (reference links defined at the end, HTML spanning blocks):
   * that check parses the whole reply again (~20 ms for a long one), so it runs once the
   * reply is painted, when idle, and re-renders the reply whole only if the two differ.
   */
  finish(text, streamed) {
    const normalised = text.replace(/\r\n?/g, "\n");
    if (!text.startsWith(streamed)) {
      renderMarkdown(this.container, normalised); // not what was streamed (never seen so far)
      return;
    }
    if (text.length > streamed.length) this.append(text.slice(streamed.length));
    const pieces = [...this.stableHtml, this.tailHtml].filter(Boolean);
    highlightWhenIdle(this.tailNodes);
    this.tailNodes = [];
    this.tailHtml = "";
    requestIdleCallback(() => this.verify(normalised, pieces), { timeout: 500 });
  }

  verify(text, pieces) {
    const squeeze = (html) => html.replace(/>\s+</g, "><").trim();
    if (squeeze(toSafeHtml(text)) !== squeeze(pieces.join(""))) {
      renderMarkdown(this.container, text);
    }
  }
}
