"""Inline `<think>…</think>` in a reply's content (some llama.cpp builds) made thinking.

Only a block that opens the reply counts: once visible text has started, a `<think>` is
the model talking about tags. The tags may be cut across chunks anywhere (`<thi`, `nk>`),
so a chunk's end that could be the start of a tag waits for the next chunk.
"""

from __future__ import annotations

from backend.core.providers.base import ContentDelta, ThinkingDelta

OPEN, CLOSE = "<think>", "</think>"


class ThinkTags:
    """Feed it each content delta; it returns the deltas to yield (thinking or content)."""

    __slots__ = ("_state", "_held", "plain")

    def __init__(self) -> None:
        # "start": nothing visible yet; "thinking": inside the block; "after": the block
        # closed, whitespace before the answer is dropped; "content": plain text from now on.
        self._state = "start"
        self._held = ""  # text kept back until the next chunk says what it is
        self.plain = False  # True once every delta is plain content (no tags to look for)

    def feed(self, text: str) -> list[ContentDelta | ThinkingDelta]:
        if self._state == "content":  # the usual case, kept cheap
            return [ContentDelta(text)] if text else []
        self._held += text
        if self._state == "start":
            return self._opening()
        if self._state == "thinking":
            return self._thinking()
        return self._after()

    def flush(self) -> list[ContentDelta | ThinkingDelta]:
        """At the end of the reply: whatever was kept back, as what it turned out to be."""
        held, self._held = self._held, ""
        if not held or self._state == "after":
            return []
        return [ThinkingDelta(held) if self._state == "thinking" else ContentDelta(held)]

    def _opening(self) -> list[ContentDelta | ThinkingDelta]:
        head = self._held.lstrip()
        if OPEN.startswith(head):  # blank so far, or a part of "<think>": wait
            return []
        if head.startswith(OPEN):
            self._state, self._held = "thinking", head[len(OPEN) :]
            return self._thinking()
        self._state, self.plain = "content", True
        held, self._held = self._held, ""
        return [ContentDelta(held)]

    def _thinking(self) -> list[ContentDelta | ThinkingDelta]:
        held = self._held
        end = held.find(CLOSE)
        if end >= 0:
            self._state, self._held = "after", held[end + len(CLOSE) :]
            out: list[ContentDelta | ThinkingDelta] = [ThinkingDelta(held[:end])] if end else []
            return out + self._after()
        keep = _partial_suffix(held, CLOSE)
        self._held = held[len(held) - keep :] if keep else ""
        thought = held[: len(held) - keep]
        return [ThinkingDelta(thought)] if thought else []

    def _after(self) -> list[ContentDelta | ThinkingDelta]:
        text, self._held = self._held.lstrip(), ""
        if not text:
            return []
        self._state, self.plain = "content", True
        return [ContentDelta(text)]


def _partial_suffix(text: str, tag: str) -> int:
    """The length of the longest end of `text` that is a proper start of `tag`."""
    for size in range(min(len(tag) - 1, len(text)), 0, -1):
        if text.endswith(tag[:size]):
            return size
    return 0


def strip_think(text: str) -> str:
    """A whole reply's visible text, without a leading think block."""
    tags = ThinkTags()
    events = tags.feed(text) + tags.flush()
    return "".join(e.text for e in events if isinstance(e, ContentDelta))
