// Editing a message of the user's in place: a textarea with "Save & send" and "Cancel".
// Enter saves (as in the composer), Shift+Enter breaks the line, Esc cancels.
import { sendOnEnter } from "./prefs.js";
import { el } from "./util.js";

const MAX_HEIGHT_PX = 320;

function autosize(area) {
  area.style.height = "auto";
  area.style.height = `${Math.min(area.scrollHeight + 2, MAX_HEIGHT_PX)}px`;
}

/**
 * Open the editor over a user message; returns {close({restoreFocus}), article}; closing
 * shows the message as it was. `onClose({refocus})`: refocus when the editor had the focus.
 * @param {HTMLElement} article the user message
 * @param {{text: string, onSave: (text: string) => void, onClose: (o: object) => void}} o
 */
export function openEditor(article, { text, onSave, onClose }) {
  const hidden = [...article.children];
  const area = el("textarea", {
    class: "edit-input",
    "data-testid": "edit-input",
    "aria-label": "Edit your message",
    rows: 1,
    spellcheck: "true",
  });
  area.value = text;
  const save = el(
    "button",
    { type: "button", class: "edit-save", "data-testid": "edit-save", "aria-label": "Save & send" },
    "Save & send",
  );
  const cancel = el(
    "button",
    {
      type: "button",
      class: "edit-cancel",
      "data-testid": "edit-cancel",
      "aria-label": "Cancel edit",
    },
    "Cancel",
  );
  const form = el(
    "div",
    { class: "edit-box", "data-testid": "edit-box", role: "group", "aria-label": "Edit message" },
    area,
    el(
      "div",
      { class: "edit-bar" },
      el("span", { class: "edit-hint", text: "A new version is added; the old one stays." }),
      cancel,
      save,
    ),
  );

  let open = true;
  const close = ({ restoreFocus = true } = {}) => {
    if (!open) return;
    open = false;
    const focused = form.contains(document.activeElement);
    form.remove();
    for (const child of hidden) child.hidden = false;
    article.classList.remove("editing");
    onClose({ refocus: restoreFocus && focused });
  };
  const submit = () => {
    if (!area.value.trim()) return;
    onSave(area.value);
  };
  const refresh = () => {
    save.disabled = !area.value.trim();
    autosize(area);
  };
  area.addEventListener("input", refresh);
  area.addEventListener("keydown", (e) => {
    if (e.key !== "Enter" || e.shiftKey || e.altKey || e.isComposing) return;
    // As in the composer: Enter, or Ctrl/⌘+Enter when "Enter sends" is off in Settings.
    if (sendOnEnter() || e.ctrlKey || e.metaKey) {
      e.preventDefault();
      submit();
    }
  });
  form.addEventListener("keydown", (e) => {
    if (e.key !== "Escape") return;
    e.preventDefault();
    e.stopPropagation(); // Esc cancels the edit; it must not reach the app's Esc handler
    close();
  });
  save.addEventListener("click", submit);
  cancel.addEventListener("click", () => close());

  for (const child of hidden) child.hidden = true;
  article.classList.add("editing");
  article.append(form);
  refresh();
  area.focus({ preventScroll: true });
  area.setSelectionRange(area.value.length, area.value.length);
  form.scrollIntoView({ block: "nearest" });
  return { close, article };
}
