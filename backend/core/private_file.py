"""Files only the user may read, written whole or not at all."""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path


def write_private(path: Path, text: str) -> None:
    """A temp file beside `path` (mkstemp makes it 0600), fsynced, then renamed over it.

    Raises OSError; `path` then still holds its old content."""
    fd, temp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, path)
    except OSError:
        Path(temp).unlink(missing_ok=True)
        raise


def set_aside(path: Path, reason: Exception, log: logging.Logger, instead: str) -> None:
    """Rename an unreadable file to `<name>.bad` (kept for the user to look at), and log
    that it happened and what the app does `instead`."""
    bad = path.with_name(path.name + ".bad")
    try:
        os.replace(path, bad)
    except OSError as exc:
        log.warning("%s is unreadable (%s) and could not be renamed: %s", path, reason, exc)
    else:
        log.warning("%s is unreadable (%s); moved it to %s and %s", path, reason, bad, instead)
