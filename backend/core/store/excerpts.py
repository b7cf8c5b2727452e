"""The excerpt of a matching message, as the reader sees its text.

A reply is Markdown, shown rendered: its excerpt is cut from its words (`markdown_text`),
so a match in a table reads "llama3 4.2 yes", not `| llama3 | 4.2 | **yes** |`. A user's
message is shown as typed, and so is its excerpt. Where the plain words hold no match (it
was in a link's address, or in markup the query spelled out), the excerpt falls back to the
text as written, so it always shows the match.
"""

from __future__ import annotations

from backend.core.store.markdown_text import plain_near, plain_text
from backend.core.store.search_text import (
    Part,
    Phrase,
    first_hit,
    highlight,
    substring_excerpt,
)

PLAIN_ROLES = frozenset({"user"})  # shown as typed: their excerpt is too


def _has_mark(parts: list[Part]) -> bool:
    return any(marked for _, marked in parts)


def message_excerpt(content: str, role: str, phrases: list[Phrase]) -> list[Part]:
    """The excerpt of a message that the index matched for `phrases`."""
    if role in PLAIN_ROLES:
        return highlight(content, phrases)
    at = first_hit(content, phrases)
    if at is None:
        words, cut_before, cut_after = plain_text(content), False, False
    else:
        words, cut_before, cut_after = plain_near(content, at)
    parts = highlight(words, phrases, cut_before=cut_before, cut_after=cut_after)
    return parts if _has_mark(parts) else highlight(content, phrases)


def message_substring_excerpt(content: str, role: str, q: str) -> list[Part]:
    """The excerpt of a message that the substring fallback matched for `q`."""
    if role not in PLAIN_ROLES:
        parts = substring_excerpt(plain_text(content), q)
        if _has_mark(parts):
            return parts
    return substring_excerpt(content, q)
