"""Open a folder or file with the desktop's default handler (file manager, viewer)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path


def open_path(path: Path) -> None:
    """Show `path` in the platform's file manager; returns at once.

    Raises OSError when the platform has no opener (e.g. `xdg-open` is not installed).
    """
    if sys.platform == "win32":
        os.startfile(path)  # type: ignore[attr-defined]  # Windows only
        return
    opener = "open" if sys.platform == "darwin" else "xdg-open"
    proc = subprocess.Popen(
        [opener, str(path)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        # Its own session: a Ctrl+C in the app's terminal must not reach the file manager.
        start_new_session=True,
    )
    # Some handlers keep xdg-open waiting until their window closes: reap it in the
    # background instead of blocking the tray, and without leaving a zombie behind.
    threading.Thread(target=proc.wait, name="open-path", daemon=True).start()
