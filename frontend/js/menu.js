// A small popup menu (role="menu") beside a button: arrow keys move, Enter picks,
// Esc, Tab or a click elsewhere closes and focus returns to the button.
import { icon } from "./icons.js";
import { el } from "./util.js";

let openMenu = null;

/** Close the menu that is open, if any (e.g. before the list under it re-renders). */
export function closeMenu({ restoreFocus = false } = {}) {
  if (openMenu) openMenu.close(restoreFocus);
}

export function isMenuOpen() {
  return openMenu !== null;
}

/**
 * @param {HTMLElement} anchor the button that opened it (gets aria-expanded)
 * @param {{label: string, icon?: string, testid?: string, group?: string, note?: string,
 *          onSelect: () => void}[]} items `group`: items in a row with the same group are
 *   shown under its name; `note`: a quiet word after the label ("current")
 * @param {{testid?: string, label?: string, x?: number, y?: number, onClose?: () => void}}
 *   options `x`, `y`: a point to open at (a context menu) instead of below the anchor
 */
export function showMenu(
  anchor,
  items,
  { testid = "menu", label = null, x = null, y = null, onClose } = {},
) {
  closeMenu();
  const buttons = items.map((item) =>
    el(
      "button",
      {
        type: "button",
        role: "menuitem",
        class: "menu-item",
        tabindex: "-1",
        "data-testid": item.testid,
      },
      item.icon ? icon(item.icon) : null,
      el("span", { class: "menu-label", text: item.label }),
      item.note ? el("span", { class: "menu-note", text: item.note }) : null,
    ),
  );
  const attrs = { class: "menu", role: "menu", "data-testid": testid, "aria-label": label };
  const node = el("div", attrs, ...grouped(items, buttons));
  const menu = {
    close(restoreFocus) {
      openMenu = null;
      node.remove();
      anchor.setAttribute("aria-expanded", "false");
      document.removeEventListener("mousedown", outside, true);
      window.removeEventListener("resize", dismiss);
      if (restoreFocus) anchor.focus();
      if (onClose) onClose();
    },
  };
  const dismiss = () => menu.close(false);
  const outside = (e) => {
    if (!node.contains(e.target) && !anchor.contains(e.target)) menu.close(false);
  };
  buttons.forEach((button, i) =>
    button.addEventListener("click", () => {
      menu.close(true);
      items[i].onSelect();
    }),
  );
  node.addEventListener("keydown", (e) => keys(e, buttons, menu));
  document.body.append(node);
  place(node, anchor, x, y);
  anchor.setAttribute("aria-haspopup", "menu");
  anchor.setAttribute("aria-expanded", "true");
  document.addEventListener("mousedown", outside, true);
  window.addEventListener("resize", dismiss);
  openMenu = menu;
  buttons[0].focus();
}

// Runs of items with a group name go in a labelled group under a heading.
function grouped(items, buttons) {
  const out = [];
  let current = null;
  items.forEach((item, i) => {
    if (!item.group) {
      current = null;
      out.push(buttons[i]);
      return;
    }
    if (!current || current.dataset.group !== item.group) {
      const heading = el("div", { class: "menu-heading", "aria-hidden": "true", text: item.group });
      current = el("div", { role: "group", "aria-label": item.group, "data-group": item.group });
      current.append(heading);
      out.push(current);
    }
    current.append(buttons[i]);
  });
  return out;
}

function keys(e, buttons, menu) {
  const index = buttons.indexOf(document.activeElement);
  const move = { ArrowDown: 1, ArrowUp: -1 }[e.key];
  if (move) {
    e.preventDefault();
    buttons[(index + move + buttons.length) % buttons.length].focus();
  } else if (e.key === "Home" || e.key === "End") {
    e.preventDefault();
    buttons[e.key === "Home" ? 0 : buttons.length - 1].focus();
  } else if (e.key === "Escape") {
    e.preventDefault();
    e.stopPropagation();
    menu.close(true);
  } else if (e.key === "Tab") {
    e.preventDefault();
    menu.close(true);
  }
}

// Below the anchor (or at the pointer), kept inside the window.
function place(node, anchor, x, y) {
  const box = anchor.getBoundingClientRect();
  const left = x ?? box.left;
  const top = y ?? box.bottom + 4;
  const width = node.offsetWidth;
  const height = node.offsetHeight;
  node.style.left = `${Math.max(8, Math.min(left, window.innerWidth - width - 8))}px`;
  const below = top + height <= window.innerHeight - 8;
  node.style.top = `${below ? top : Math.max(8, (y ?? box.top) - height - 4)}px`;
}
