// The address of what is on screen, in the URL's fragment: `#/c/<id>` for a conversation,
// none for a new chat (`#/` is read as one too), so reload, back and forward keep the
// user's place. Only the fragment
// changes: the path and query (`?token=`, the relay's /app/ page) stay as they are.
// The tray's older forms are still understood: `#new` and `#conversation=<id>`.

const CONVERSATION = /^#\/c\/([A-Za-z0-9_-]{1,64})$/;

/**
 * What a fragment asks for: `{ id }` for a conversation, `{ id: null }` for a new chat,
 * `null` when it asks for nothing (empty, or not one of ours).
 * @param {string} hash
 * @returns {{id: string|null}|null}
 */
export function parseRoute(hash) {
  if (hash === "#/" || hash === "#new") return { id: null };
  const found = CONVERSATION.exec(hash);
  if (found) return { id: found[1] };
  if (hash.startsWith("#conversation=")) return { id: hash.slice("#conversation=".length) };
  return null;
}

/** The fragment of a conversation; the new-chat screen has none. */
export function routeOf(id) {
  return id ? `#/c/${encodeURIComponent(id)}` : "";
}

/**
 * Show `id` in the address bar: a new history entry (so Back returns to the chat before),
 * or in place of the current one (start-up, a chat that was not found). Nothing when the
 * address already says so, e.g. after Back itself.
 */
export function showRoute(id, { replace = false } = {}) {
  const hash = routeOf(id);
  if (location.hash === hash) return;
  const url = location.pathname + location.search + hash;
  if (replace) history.replaceState(null, "", url);
  else history.pushState(null, "", url);
}

/**
 * Calls `onRoute(route)` when the user moves through history or edits the fragment. A
 * fragment that is not ours (a link to an anchor inside a reply) changes nothing.
 */
export function watchRoute(onRoute) {
  // pushState fires neither event, so this hears only Back, Forward and typed addresses.
  window.addEventListener("hashchange", () => {
    const route = location.hash ? parseRoute(location.hash) : { id: null };
    if (route) onRoute(route);
  });
}
