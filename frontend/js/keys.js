// App-wide keyboard shortcuts. Dialogs handle their own keys (Esc closes, Tab stays inside),
// so while one is open only it gets them.

/**
 * @param {{newChat: Function, search: Function, settings: Function, escape: (e) => boolean}} on
 *   `escape` returns true when it used the key (e.g. stopped a streaming reply).
 */
export function bindShortcuts(on) {
  document.addEventListener("keydown", (e) => {
    if (e.defaultPrevented || e.isComposing) return;
    if (document.querySelector("dialog[open]")) return;
    const mod = (e.ctrlKey || e.metaKey) && !e.altKey;
    const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
    let used = true;
    if (key === "Escape") used = on.escape(e);
    // Ctrl+N is the native window's; a browser keeps it for itself, hence Ctrl/⌘+Shift+O too.
    else if (mod && ((!e.shiftKey && key === "n") || (e.shiftKey && key === "o"))) on.newChat();
    else if (mod && !e.shiftKey && key === "k") on.search();
    else if (mod && !e.shiftKey && key === ",") on.settings();
    else used = false;
    if (used) e.preventDefault();
  });
}
