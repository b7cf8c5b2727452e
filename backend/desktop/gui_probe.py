"""Can the native window open here? Asked before Qt starts, because Qt cannot say "no".

With no display, an unreachable one, or a system library missing, Qt prints that
"reinstalling the application may fix this problem" and aborts the whole process
(SIGABRT, exit 134): nothing after it runs, not even the web fallback. So the app looks
first, without starting Qt: the display (an X connection, or a Wayland socket), the
Qt WebEngine import (a missing library is an ImportError there, not an abort), and the
libraries of Qt's xcb platform plugin (`ldd`, since Qt names the wrong one: see
/work/shared/DESKTOP-TESTING.md). The answer is one line naming the cause and the fix.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

LDD_TIMEOUT_S = 10.0
# Debian and Ubuntu packages of the libraries Qt's xcb plugin and WebEngine need most often
# and a minimal system lacks (same names on Ubuntu 24.04, except libasound2t64 there).
PACKAGES = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libnss3.so": "libnss3",
    "libxkbfile.so.1": "libxkbfile1",
    "libXcomposite.so.1": "libxcomposite1",
    "libXdamage.so.1": "libxdamage1",
    "libXrandr.so.2": "libxrandr2",
    "libXtst.so.6": "libxtst6",
    "libasound.so.2": "libasound2",
}
_MISSING_IN_IMPORT = re.compile(r"(\S+\.so[.\d]*): cannot open shared object file")


@dataclass(frozen=True)
class GuiProblem:
    kind: str  # "display" (nothing to show a window on) or "libraries" (Qt cannot load)
    message: str  # one line: the cause and the fix


def window_problem() -> GuiProblem | None:
    """Why the native window cannot open on this machine now, or None if it can."""
    if not sys.platform.startswith("linux"):
        return None  # Windows and macOS: the system's own web view, always there
    return display_problem() or library_problem()


def display_problem() -> GuiProblem | None:
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    if platform.startswith(("offscreen", "minimal", "vnc")):
        return None  # Qt draws without a display
    if not platform.startswith("xcb") and _wayland_socket() is not None:
        return None
    name = os.environ.get("DISPLAY", "")
    if not name:
        return GuiProblem(
            "display",
            "no display (DISPLAY is not set): start it from a desktop session",
        )
    reason = _x_connection_error(name)
    if reason:
        return GuiProblem(
            "display",
            f"no display: cannot connect to DISPLAY={name} ({reason}); "
            "check that the X server is running and this user may use it",
        )
    return None


def library_problem() -> GuiProblem | None:
    missing = _missing_for_webengine() + missing_libraries(qt_platform_plugin("xcb"))
    if not missing:
        return None
    names = sorted(set(missing))
    packages = sorted({PACKAGES[name] for name in names if name in PACKAGES})
    fix = (
        f"install them (Debian/Ubuntu: apt install {' '.join(packages)})"
        if packages
        else "install the packages that provide them"
    )
    return GuiProblem("libraries", f"missing system libraries {', '.join(names)}: {fix}")


def missing_libraries(library: Path | None) -> list[str]:
    """The libraries `ldd` reports "not found" for `library` (none if it cannot tell)."""
    ldd = shutil.which("ldd")
    if library is None or not library.is_file() or ldd is None:
        return []
    try:
        done = subprocess.run(
            [ldd, str(library)], capture_output=True, text=True, timeout=LDD_TIMEOUT_S
        )
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [line.split("=>")[0].strip() for line in done.stdout.splitlines() if "not found" in line]


def qt_platform_plugin(name: str) -> Path | None:
    """The file Qt loads for platform `name`."""
    filename = f"libq{name}.so"
    custom = os.environ.get("QT_QPA_PLATFORM_PLUGIN_PATH")
    if custom and (Path(custom) / filename).is_file():
        return Path(custom) / filename
    try:
        from PyQt6.QtCore import QLibraryInfo
    except ImportError:
        return None  # reported by the WebEngine import
    plugins = Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath))
    return plugins / "platforms" / filename


def _missing_for_webengine() -> list[str]:
    try:
        import PyQt6.QtWebEngineWidgets  # noqa: F401  (pywebview's Qt backend needs it)
    except ImportError as exc:
        found = _MISSING_IN_IMPORT.findall(str(exc))
        return found or [f"(Qt WebEngine: {exc})"]
    return []


def _wayland_socket() -> Path | None:
    name = os.environ.get("WAYLAND_DISPLAY", "")
    if not name:
        return None
    runtime_dir = Path(os.environ.get("XDG_RUNTIME_DIR", ""))
    path = Path(name) if name.startswith("/") else runtime_dir / name
    return path if path.exists() else None


def _x_connection_error(name: str) -> str | None:
    try:
        from Xlib import display  # python-xlib: pystray's X11 dependency on Linux
    except ImportError:
        return None  # cannot tell: let Qt try
    try:
        display.Display(name).close()
    except Exception as exc:  # Xlib raises its own error types for each way of failing
        return " ".join(str(exc).split()) or type(exc).__name__
    return None
