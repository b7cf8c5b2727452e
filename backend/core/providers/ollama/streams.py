"""Ollama's streamed answers as iterators that can be closed or aborted from any thread.

The lines are split in `lines.py` and parsed into typed events in `events.py`.
"""

from __future__ import annotations

from typing import Any

from backend.core.providers.streams import ChatStream, Stream

__all__ = ["ChatStream", "PullStream"]  # the chat stream is every provider's


class PullStream(Stream):
    """Progress dicts `{status, digest?, total?, completed?}`, one per NDJSON line."""

    def __next__(self) -> dict[str, Any]:
        return next(self._events)
