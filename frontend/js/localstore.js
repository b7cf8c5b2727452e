// localStorage that never throws: private modes and full disks must not break the chat.

const PREFIX = "ctl.";

export function load(key, fallback = null) {
  try {
    const raw = localStorage.getItem(PREFIX + key);
    return raw === null ? fallback : JSON.parse(raw);
  } catch {
    return fallback;
  }
}

export function save(key, value) {
  try {
    if (value === null || value === undefined || value === "") {
      localStorage.removeItem(PREFIX + key);
    } else {
      localStorage.setItem(PREFIX + key, JSON.stringify(value));
    }
  } catch {
    // Storage full or disabled: the draft still lives in the textarea.
  }
}

/** Drafts are kept per conversation; "new" is the draft of a chat not yet started. */
export const draftKey = (conversationId) => `draft.${conversationId || "new"}`;
