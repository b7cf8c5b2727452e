"""The bundle's entry point: PyInstaller runs this file as __main__."""

import os
import sys

# A windowed build (Windows, macOS) starts with no stdout or stderr at all; the ready line,
# --version and logging would fail on None, so they go nowhere instead.
for _name in ("stdout", "stderr"):
    if getattr(sys, _name) is None:
        setattr(sys, _name, open(os.devnull, "w", encoding="utf-8"))

from backend.launcher.cli import main  # noqa: E402

raise SystemExit(main())
