"""Which pystray backend shows the tray on Linux, chosen before pystray is imported.

pystray's X11 backend (the one a bare pip install gets) has no menu at all, and only
XEmbed trays show it. Its `appindicator` backend (PyGObject + Ayatana AppIndicator) has
the menu, is seen by StatusNotifierItem hosts (KDE, GNOME's AppIndicator extension,
Cinnamon, XFCE) over D-Bus, and falls back by itself to an XEmbed icon when no host
watches. It needs a session bus: without one it fails at start, trying `dbus-launch`.
So: appindicator when PyGObject, the AppIndicator typelib and a session bus are all
there, else X11. `PYSTRAY_BACKEND` set by the user (or a test) wins over both.

Windows and macOS keep pystray's own choice: their backends have menus.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from typing import Any

APPINDICATOR = "appindicator"
XORG = "xorg"
# The typelibs pystray's appindicator backend tries, in its order.
INDICATOR_TYPELIBS = ("AppIndicator3", "AyatanaAppIndicator3")


def preferred_backend() -> str | None:
    """The pystray backend to use here, or None for pystray's own choice."""
    if os.environ.get("PYSTRAY_BACKEND") or not sys.platform.startswith("linux"):
        return None
    return XORG if appindicator_problem() else APPINDICATOR


def appindicator_problem() -> str | None:
    """Why the appindicator backend cannot start here, or None if it can."""
    if not session_bus_available():
        return "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set)"
    try:
        import gi
    except ImportError:
        return "PyGObject is not installed"
    for name in INDICATOR_TYPELIBS:
        try:
            gi.require_version(name, "0.1")
            return None
        except ValueError:
            continue
    return "no AppIndicator typelib (apt install gir1.2-ayatanaappindicator3-0.1)"


def session_bus_available() -> bool:
    """Whether a session bus is already running; never starts one (dbus-launch would)."""
    address = os.environ.get("DBUS_SESSION_BUS_ADDRESS", "")
    if address:
        path = _unix_path(address)
        return path is None or Path(path).exists()
    runtime_dir = os.environ.get("XDG_RUNTIME_DIR")
    return bool(runtime_dir) and (Path(runtime_dir) / "bus").exists()


def icon_class(backend: str | None) -> Any:
    """pystray's Icon class of `backend` (None: pystray's own choice)."""
    if "pystray" not in sys.modules and backend is not None:
        # pystray picks its backend once, at import, from this variable: set it for that
        # import only, so that child processes (the browser, Qt's) do not inherit it.
        before = os.environ.get("PYSTRAY_BACKEND")
        os.environ["PYSTRAY_BACKEND"] = backend
        try:
            importlib.import_module("pystray")
        finally:
            if before is None:
                del os.environ["PYSTRAY_BACKEND"]
            else:
                os.environ["PYSTRAY_BACKEND"] = before
    if backend is None:
        return importlib.import_module("pystray").Icon
    return importlib.import_module(f"pystray._{backend}").Icon


def _unix_path(address: str) -> str | None:
    # "unix:path=/run/user/0/bus,guid=…"; abstract sockets and TCP have no file to look at.
    for part in address.split(";")[0].removeprefix("unix:").split(","):
        key, _, value = part.partition("=")
        if key == "path":
            return value
    return None
