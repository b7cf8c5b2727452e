// Export (downloads fetched with the token, saved through a Blob link) and import.
import { toast, toastError } from "./toast.js";

/** Hand a Blob to the browser as a file download. */
export function saveBlob(blob, filename) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = filename || "download";
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  // Revoking at once can cancel the download in some engines; a minute is plenty.
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

/** One conversation as a file: format "json" or "markdown". */
export async function exportConversation(api, id, format) {
  try {
    const { blob, filename } = await api.exportConversation(id, format);
    saveBlob(blob, filename || `conversation.${format === "json" ? "json" : "md"}`);
  } catch (err) {
    toastError("Couldn't export the conversation", err);
  }
}

/** Every conversation as one file; resolves true when the download started. */
export async function exportAll(api, format) {
  try {
    const { blob, filename } = await api.exportAll(format);
    saveBlob(blob, filename || `cloudtolocalllm-export.${format === "json" ? "json" : "md"}`);
    return true;
  } catch (err) {
    toastError("Couldn't export", err);
    return false;
  }
}

/**
 * Import an export file. Resolves {ok: true, count, text} or {ok: false, text}: `text` is
 * what to tell the user (the backend's own message for a bad file).
 */
export async function importFile(api, file) {
  try {
    const result = await api.importFile(file);
    const count = (result && result.imported && result.imported.conversations) || 0;
    const text = importedText(count, (result && result.skipped) || []);
    toast(text, { kind: "info" });
    return { ok: true, count, text, conversations: result.conversations || [] };
  } catch (err) {
    return { ok: false, text: `Couldn't import ${file.name || "the file"}: ${err.message}` };
  }
}

/** "Imported 2 conversations; 1 already here was skipped" (an id already present is skipped). */
function importedText(count, skipped) {
  const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;
  if (!skipped.length) return `Imported ${plural(count, "conversation")}`;
  const here = `${skipped.length} already here ${skipped.length === 1 ? "was" : "were"} skipped`;
  if (!count) return `Nothing new to import: ${plural(skipped.length, "conversation")} already here`;
  return `Imported ${plural(count, "conversation")}; ${here}`;
}
