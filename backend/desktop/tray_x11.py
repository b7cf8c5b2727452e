"""Workarounds for pystray's X11 backend, the one a pip install gets on Linux (no PyGObject).

- It docks into an XEmbed system tray, which many desktops lack (GNOME, most Wayland
  sessions): there the icon is invisible, and a window hidden "to the tray" is lost.
- It stores the tooltip as a Latin-1 window name and raises on any other character.
- A call from another thread sends an X message to the tray's loop and waits for it. With
  python-xlib, another thread's flush can read the loop's pending event off the socket
  while the loop sleeps in select(), so the loop (and the caller) can wait until some
  other X traffic arrives. A round trip on the connection wakes it: `waking_loop`
  repeats one while such a call is in flight. Measured under Xvfb: stop() waited its
  full 2 s in about one run in three without it.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

NUDGE_INTERVAL_S = 0.05


def is_x11(icon: Any) -> bool:
    """Whether `icon` is a pystray X11 (`_xorg`) icon."""
    return type(icon).__module__ == "pystray._xorg"


def missing_tray_host() -> str | None:
    """Why an X11 tray icon would be invisible on this display, or None if it has a tray."""
    from Xlib import X, display  # pystray has imported Xlib.threaded by now

    try:
        conn = display.Display()
    except Exception as exc:  # Xlib raises its own error types for an unusable DISPLAY
        return f"cannot open the X display: {type(exc).__name__}: {exc}"
    try:
        atom = conn.intern_atom(f"_NET_SYSTEM_TRAY_S{conn.get_default_screen()}")
        owner = conn.get_selection_owner(atom)
    finally:
        conn.close()
    if getattr(owner, "id", owner) == X.NONE:
        return "no system tray on this X display"
    return None


def latin1_title(text: str) -> str:
    """`text` as an X11 window name can hold it: ASCII look-alikes, else "?"."""
    text = text.replace("—", "-").replace("…", "...")
    return text.encode("latin-1", "replace").decode("latin-1")


@contextlib.contextmanager
def waking_loop(icon: Any, interval_s: float = NUDGE_INTERVAL_S) -> Iterator[None]:
    """Keep the X11 tray loop awake while this thread waits for it (see the module doc)."""
    conn = getattr(icon, "_display", None) if is_x11(icon) else None
    if conn is None:
        yield
        return
    done = threading.Event()

    def nudge() -> None:
        while not done.wait(interval_s):
            try:
                conn.sync()  # a reply arrives, select() returns, the loop sees its queue
            except Exception:  # the connection is closed: there is no loop left to wake
                return

    threading.Thread(target=nudge, name="tray-x11-nudge", daemon=True).start()
    try:
        yield
    finally:
        done.set()
