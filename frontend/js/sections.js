// A long reply's top-level blocks in sections of a few dozen: each section is one contained,
// content-visibility box, so the browser's work each frame (visibility checks, cull rects, hit
// tests, paint, scroll anchoring) grows with the number of sections, not of blocks. A whole
// render and a stream group the same blocks the same way: the Nth element starts a section at
// every BLOCKS_PER_SECTION elements, text between blocks stays with the block before it.
export const BLOCKS_PER_SECTION = 24;

/** `nodes` (top-level blocks in order) grouped: one array per section. */
export function groupBlocks(nodes) {
  const groups = [];
  let elements = 0;
  for (const node of nodes) {
    const isElement = node.nodeType === Node.ELEMENT_NODE;
    if (!groups.length || (isElement && elements > 0 && elements % BLOCKS_PER_SECTION === 0)) {
      groups.push([]);
    }
    if (isElement) elements += 1;
    groups[groups.length - 1].push(node);
  }
  return groups;
}

/**
 * Make `container`'s sections from the `first` one on hold `groups`, in order, moving only
 * the nodes that are out of place (a node already where it belongs keeps its layout), and
 * drop the sections after them.
 */
export function placeInSections(container, groups, first = 0) {
  const sections = container.children;
  groups.forEach((group, i) => {
    let section = sections[first + i];
    if (!section?.classList.contains("md-section")) {
      // None yet there, or a new block put straight into the container: a section before it.
      const fresh = document.createElement("div");
      fresh.className = "md-section";
      container.insertBefore(fresh, section ?? null);
      section = fresh;
    }
    group.forEach((node, j) => {
      const here = section.childNodes[j];
      if (here !== node) section.insertBefore(node, here ?? null);
    });
    while (section.childNodes.length > group.length) section.lastChild.remove();
  });
  while (sections.length > first + groups.length) container.lastElementChild.remove();
}

/** New sections holding `nodes` (a whole render). */
export function sectioned(nodes) {
  const box = document.createElement("div");
  placeInSections(box, groupBlocks(nodes));
  return [...box.children];
}
