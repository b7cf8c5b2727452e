// Editing a sidebar item in place: the rename box and the inline "Delete?" confirmation.
import { el } from "./util.js";

/**
 * Replace the item with a title box. `done(title)` once: the trimmed text on Enter or blur,
 * null on Esc. The caller re-renders the list.
 */
export function renameBox(li, title, done) {
  const input = el("input", {
    type: "text",
    class: "conv-rename",
    "data-testid": "conversation-rename-input",
    "aria-label": "Conversation title",
    maxlength: 200,
  });
  input.value = title;
  li.classList.add("editing");
  li.replaceChildren(input);
  input.focus();
  input.select();
  let finished = false;
  const finish = (commit) => {
    if (finished) return;
    finished = true;
    done(commit ? input.value.trim() : null);
  };
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter") finish(true);
    if (e.key === "Escape") finish(false);
  });
  input.addEventListener("blur", () => finish(true));
}

/** Swap the item's actions for "Delete? [Delete] [Cancel]"; Cancel and Esc put them back. */
export function confirmInline(li, { onYes, onNo }) {
  const actions = li.querySelector(".conv-actions");
  const saved = [...actions.childNodes];
  const onKey = (e) => e.key === "Escape" && cancel();
  const cancel = () => {
    actions.removeEventListener("keydown", onKey);
    li.classList.remove("confirming");
    actions.replaceChildren(...saved);
    li.querySelector(".conv-main").focus();
    onNo();
  };
  const yes = el(
    "button",
    { type: "button", class: "confirm-yes", "data-testid": "conversation-delete-confirm" },
    "Delete",
  );
  const no = el(
    "button",
    { type: "button", class: "confirm-no", "data-testid": "conversation-delete-cancel" },
    "Cancel",
  );
  yes.addEventListener("click", onYes);
  no.addEventListener("click", cancel);
  actions.addEventListener("keydown", onKey);
  li.classList.add("confirming");
  actions.replaceChildren(el("span", { class: "confirm-text", text: "Delete?" }), yes, no);
  no.focus();
}
