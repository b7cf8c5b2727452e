"""Structured logs: one JSON object a line on stderr, naming events, never frame content."""

from __future__ import annotations

import json
import sys
import time
from typing import Any, TextIO


class EventLog:
    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream or sys.stderr

    def __call__(self, event: str, **fields: Any) -> None:
        record = {"ts": round(time.time(), 3), "event": event, **fields}
        self._stream.write(json.dumps(record, separators=(",", ":")) + "\n")
        self._stream.flush()


def short_id(desktop_id: str) -> str:
    """Enough of a desktop id to follow it through the log (ids are public keys anyway)."""
    return desktop_id[:8]
