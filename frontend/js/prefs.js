// The UI's preferences (theme, chat font size, Enter to send), applied to the page.
// The backend keeps them (`/api/settings`); a copy in localStorage paints the first frame
// right before the settings have loaded. Other modules read them here:
//   import { sendOnEnter, onPrefsChange } from "./prefs.js";
import { el } from "./util.js";
import { load, save } from "./localstore.js";
import { MOD_KEY } from "./format.js";

const THEMES = ["light", "dark", "system"];
const FONT_MIN = 12;
const FONT_MAX = 22;
const DEFAULTS = Object.freeze({ theme: "system", send_on_enter: true, font_size: 14 });

let current = clean(load("prefs", {}));
const listeners = new Set();

function clean(raw) {
  const p = { ...DEFAULTS };
  if (!raw || typeof raw !== "object") return p;
  if (THEMES.includes(raw.theme)) p.theme = raw.theme;
  if (typeof raw.send_on_enter === "boolean") p.send_on_enter = raw.send_on_enter;
  if (Number.isInteger(raw.font_size) && raw.font_size >= FONT_MIN && raw.font_size <= FONT_MAX) {
    p.font_size = raw.font_size;
  }
  return p;
}

/** The preferences now: {theme, send_on_enter, font_size}. */
export function getPrefs() {
  return { ...current };
}

/** True when Enter sends a message (Shift+Enter: newline); false: Ctrl/⌘+Enter sends. */
export function sendOnEnter() {
  return current.send_on_enter;
}

/** Call fn(prefs) whenever they change; returns the unsubscribe function. */
export function onPrefsChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** Apply settings (all of `/api/settings` or just some fields) to the page. */
export function applyPrefs(settings) {
  current = clean({ ...current, ...settings });
  save("prefs", current);
  paint();
SYSTEM_DARK.addEventListener("change", () => current.theme === "system" && paint());
  for (const fn of listeners) fn(getPrefs());
}

const SYSTEM_DARK = window.matchMedia("(prefers-color-scheme: dark)");

/** The theme on screen: "system" resolved to the system's "light" or "dark". */
export function shownTheme() {
  if (current.theme !== "system") return current.theme;
  return SYSTEM_DARK.matches ? "dark" : "light";
}

function paint() {
  const root = document.documentElement;
  // The stylesheet knows two palettes only; "system" is resolved here (and followed below).
  root.dataset.theme = shownTheme();
  root.style.setProperty("--chat-font-size", `${current.font_size}px`);
  paintCodeTheme();
  paintComposerHint();
}

// highlight.js ships one stylesheet per scheme; follow the theme on screen.
function paintCodeTheme() {
  const dark = shownTheme() === "dark";
  const lightSheet = document.getElementById("hl-light");
  const darkSheet = document.getElementById("hl-dark");
  if (lightSheet) lightSheet.media = dark ? "not all" : "all";
  if (darkSheet) darkSheet.media = dark ? "all" : "not all";
}

function paintComposerHint() {
  const hint = document.getElementById("composer-hint");
  const send = document.getElementById("send-btn");
  const keys = (...names) =>
    names.flatMap((name, i) =>
      i ? ["+", el("kbd", { text: name })] : [el("kbd", { text: name })],
    );
  if (hint) {
    hint.replaceChildren(
      ...(current.send_on_enter
        ? [...keys("Enter"), " to send · ", ...keys("Shift", "Enter"), " for a new line"]
        : [...keys(MOD_KEY, "Enter"), " to send · ", ...keys("Enter"), " for a new line"]),
    );
  }
  if (send) send.title = current.send_on_enter ? "Send (Enter)" : `Send (${MOD_KEY}+Enter)`;
}

paint();
SYSTEM_DARK.addEventListener("change", () => current.theme === "system" && paint());
