// Icons of the message features that util.js does not draw; same markup as util.icon().
import { icon } from "./util.js";

const PATHS = {
  refresh: '<path d="M19.5 12a7.5 7.5 0 1 1-2.2-5.3"/><path d="M19.5 4.5v4h-4"/>',
  left: '<path d="m14.5 6-6 6 6 6"/>',
  right: '<path d="m9.5 6 6 6-6 6"/>',
  sliders:
    '<path d="M4 7h9M17 7h3M4 17h3M11 17h9"/><circle cx="15" cy="7" r="2"/><circle cx="9" cy="17" r="2"/>',
  info: '<circle cx="12" cy="12" r="8.5"/><path d="M12 11v5.5M12 7.8v.1"/>',
  close: '<path d="m6.5 6.5 11 11M17.5 6.5l-11 11"/>',
};

const built = new Map(); // name -> the icon, parsed once and cloned after

/** An inline SVG icon, decorative (aria-hidden), from util.js's set or this one. */
export function micon(name) {
  if (!PATHS[name]) return icon(name);
  let span = built.get(name);
  if (!span) {
    span = icon(name);
    span.querySelector("svg").innerHTML = PATHS[name];
    built.set(name, span);
  }
  return span.cloneNode(true);
}
