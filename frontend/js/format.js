// Numbers and dates as people read them in the panels.

const UNITS = ["B", "KB", "MB", "GB", "TB"];

/** 2019393189 -> "2.0 GB" (decimal units, as Ollama and download pages count). */
export function humanBytes(bytes) {
  if (typeof bytes !== "number" || !Number.isFinite(bytes) || bytes < 0) return "";
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit += 1;
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  return `${value.toFixed(digits)} ${UNITS[unit]}`;
}

/** "May 4, 2025" (the year only when it is not this year's). */
export function shortDate(iso, now = new Date()) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  const opts = { month: "short", day: "numeric" };
  if (date.getFullYear() !== now.getFullYear()) opts.year = "numeric";
  return date.toLocaleDateString(undefined, opts);
}

/** "llama3.2:latest · 3.2B": how the model picker names a model. */
export function modelLabel(model) {
  const size = model.details && model.details.parameter_size;
  return size ? `${model.name} · ${size}` : model.name;
}

/** Ctrl or ⌘, as the keyboard in front of the user says it. */
export const MOD_KEY = /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent)
  ? "⌘"
  : "Ctrl";
