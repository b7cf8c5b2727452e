// Patches DOM in place to match freshly built nodes: what is equal stays (no restyle, no new
// layout objects), text that grew is updated, new nodes are moved in, extra ones removed.

/**
 * Make the run of `parent`'s children `current` (in order, possibly empty) match `wanted`
 * (nodes not in the document). Returns the nodes now in that run; new ones go after the
 * run's last node (wherever it is), or at the end of `parent` when `current` is empty.
 */
export function morphChildren(parent, current, wanted) {
  const result = [];
  const last = current[current.length - 1];
  const next = last ? last.nextSibling : null;
  const into = last ? last.parentNode : parent;
  wanted.forEach((node, i) => {
    if (i < current.length) result.push(morphNode(current[i], node));
    else {
      into.insertBefore(node, next);
      result.push(node);
    }
  });
  for (const extra of current.slice(wanted.length)) extra.remove();
  return result;
}

/** `from` (in the document) made equal to `to`; returns the node now in its place. */
function morphNode(from, to) {
  if (from.nodeType !== to.nodeType || from.nodeName !== to.nodeName) {
    from.replaceWith(to);
    return to;
  }
  if (from.nodeType !== Node.ELEMENT_NODE) {
    if (from.nodeValue !== to.nodeValue) from.nodeValue = to.nodeValue;
    return from;
  }
  syncAttributes(from, to);
  morphChildren(from, [...from.childNodes], [...to.childNodes]);
  return from;
}

function syncAttributes(from, to) {
  for (const { name } of [...from.attributes]) {
    if (!to.hasAttribute(name)) from.removeAttribute(name);
  }
  for (const { name, value } of to.attributes) {
    if (from.getAttribute(name) !== value) from.setAttribute(name, value);
  }
}
