"""Polling for what another thread or process does, for tests that cannot be told when."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path


def eventually(condition: Callable[[], bool], within: float = 10.0) -> bool:
    """Poll for something another thread does; True as soon as it holds (so a generous
    `within` costs nothing when all is well, and spares a loaded machine a false failure)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def lines_when(path: Path, count: int, within: float = 10.0) -> list[str]:
    """The lines of a file another process appends to, once it has at least `count`."""
    lines: list[str] = []

    def enough() -> bool:
        nonlocal lines
        lines = path.read_text().splitlines() if path.exists() else []
        return len(lines) >= count

    if not eventually(enough, within):
        raise AssertionError(f"{path} has {lines}, not {count} lines")
    return lines
