"""What the user typed, as an FTS5 query, and excerpts of text with the matches marked.

A query is split on whitespace into pieces; a piece with no letter or digit is dropped.
Each piece becomes a quoted FTS5 string, so no character of user input (`"`, `*`, `-`,
`:`, `^`, `OR`, `NEAR`…) is ever read as query syntax. A piece whose last word has two or
more characters and that ends in a letter or digit is a word still being typed and gets a
prefix star: "pengu" finds "penguins". A piece ending in a symbol (`C++`, `"exact"`) or
in a one-letter word is matched as whole words. All pieces must match.

Excerpts are computed here rather than by FTS5's snippet(), which re-expands every prefix
for each row and costs milliseconds per result on a large index.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass

EXCERPT_TOKENS = 12
LEAD_TOKENS = 4  # words shown before the first match…
LEAD_CHARS = 36  # …as long as they are this short: the match stays in a snippet's first line
EXCERPT_CHARS = 90  # about twelve words, for the LIKE fallback
ELLIPSIS = "…"
# FTS5's unicode61 tokenizer: runs of letters and digits; `_` and the rest separate.
_TOKEN = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class Phrase:
    """One piece of the query: its quoted text and its folded words."""

    piece: str
    words: tuple[str, ...]
    prefix: bool

    def fts(self) -> str:
        return '"' + self.piece.replace('"', '""') + '"' + ("*" if self.prefix else "")


def fold(word: str) -> str:
    """Case and accents removed, as unicode61 with remove_diacritics does."""
    if word.isascii():
        return word.lower()
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def parse_query(q: str) -> list[Phrase]:
    phrases = []
    for piece in q.split():
        words = tuple(fold(w) for w in _TOKEN.findall(piece))
        if words:
            typing = piece[-1].isalnum() and len(words[-1]) >= 2
            phrases.append(Phrase(piece, words, typing))
    return phrases


def fts_match(phrases: list[Phrase]) -> str:
    """The FTS5 MATCH expression for a query's phrases ("" for none)."""
    return " ".join(phrase.fts() for phrase in phrases)


def _window(flat: str, phrases: list[Phrase], width: int) -> tuple[list, int, list]:
    """The tokens read, the index of the first shown, and the (first, last) token spans
    of the matches. Reading stops once the window after the first match is full, and in
    ASCII text it starts a few words before the first candidate: the cost of an excerpt
    does not grow with the length of the message."""
    begin = _skip_to_candidate(flat, phrases)
    if begin:
        tokens, first, hits = _read_window(flat, phrases, width, begin)
        if hits:
            return tokens, first, hits
    return _read_window(flat, phrases, width, 0)


def _skip_to_candidate(flat: str, phrases: list[Phrase]) -> int:
    """Where to start reading: enough words before the first token that could end a match
    (a phrase's last word at the start of a token) to show the lead and whole phrases,
    plus one; 0 to read from the start.

    Only when the text before the candidate is ASCII: there, a token matches exactly when
    its lowercase form does (elsewhere, accent folding could make an earlier token match).
    """
    at = _first_candidate(flat.lower(), phrases)
    if at < 64 or not flat[:at].isascii():
        return 0
    need = LEAD_TOKENS + max(len(p.words) for p in phrases)  # the phrase, the lead, one more
    span = 16 * need
    while True:
        low = max(0, at - span)
        before = [m.start() for m in _TOKEN.finditer(flat, low, at)]
        if len(before) > need:  # the first may be cut by `low`, so never counted
            return before[-need]
        if low == 0:
            return 0
        span *= 4


def _first_candidate(lowered: str, phrases: list[Phrase]) -> int:
    """The first place a phrase's last word starts a token (and ends it, unless typed);
    -1 if none. `str.isalnum` is exactly what the tokenizer's `[^\\W_]` accepts."""
    first = -1
    for phrase in phrases:
        word = phrase.words[-1]
        at = lowered.find(word)
        while at != -1 and (first == -1 or at < first):
            after = at + len(word)
            starts = at == 0 or not lowered[at - 1].isalnum()
            ends = phrase.prefix or after == len(lowered) or not lowered[after].isalnum()
            if starts and ends:
                first = at
                break
            at = lowered.find(word, at + 1)
    return first


def _read_window(
    flat: str, phrases: list[Phrase], width: int, begin: int
) -> tuple[list, int, list]:
    """`_window` reading from `begin` (a token start). The hot loop of a search: kept flat."""
    tokens: list[tuple[int, int, str]] = []
    hits: list[tuple[int, int]] = []
    specs = [(len(p.words) - 1, p.words[:-1], p.words[-1], p.prefix) for p in phrases]
    stop = -1
    for found in _TOKEN.finditer(flat, begin):
        word = found.group()
        word = word.lower() if word.isascii() else fold(word)
        end = len(tokens)
        tokens.append((found.start(), found.end(), word))
        for before, whole, last, prefix in specs:
            if word != last and not (prefix and word.startswith(last)):
                continue
            start = end - before
            if start >= 0 and all(tokens[start + k][2] == w for k, w in enumerate(whole)):
                hits.append((start, end))
                if stop < 0:
                    stop = max(0, start - LEAD_TOKENS) + width + max(s[0] for s in specs)
        if 0 <= stop <= end:
            break
    first = max(0, min(hits)[0] - LEAD_TOKENS) if hits else 0
    return tokens, first, sorted(hits)


def first_hit(text: str, phrases: list[Phrase]) -> int | None:
    """Where the first match in `text` starts (whitespace as written), None for none."""
    tokens, _, hits = _window(text, phrases, 1)
    return tokens[hits[0][0]][0] if hits else None


Part = tuple[str, bool]  # a piece of an excerpt's text, and whether it is a match


def highlight(
    body: str,
    phrases: list[Phrase],
    width: int = EXCERPT_TOKENS,
    *,
    cut_before: bool = False,
    cut_after: bool = False,
) -> list[Part]:
    """About `width` words of `body` from a few before its first match, whitespace
    collapsed, as parts with each match marked. `cut_before`/`cut_after`: `body` is a slice
    of a longer text, so an end of it is a cut too."""
    flat = " ".join(body.split())
    tokens, first, hits = _window(flat, phrases, width) if phrases else ([], 0, [])
    if not tokens:
        more = cut_after or len(flat) > EXCERPT_CHARS
        return _parts(flat[:EXCERPT_CHARS], [], cut_before, more)
    last = min(len(tokens), first + width) - 1
    if hits:  # a long word or two before the match must not push it out of sight
        shown = min(a for a, _ in hits if a >= first)
        while first < shown and tokens[shown][0] - tokens[first][0] > LEAD_CHARS:
            first += 1
    start = tokens[first][0] if first else 0
    more = last < len(tokens) - 1 or _TOKEN.search(flat, tokens[last][1]) is not None
    end = tokens[last][1] if more else len(flat)
    marks: list[tuple[int, int]] = []
    for a, b in hits:
        if a < first or b > last:
            continue
        mark = (tokens[a][0] - start, tokens[b][1] - start)
        if marks and mark[0] <= marks[-1][1]:  # overlapping matches share one mark
            previous = marks.pop()
            mark = (previous[0], max(previous[1], mark[1]))
        marks.append(mark)
    return _parts(flat[start:end], marks, cut_before or start > 0, cut_after or end < len(flat))


def _parts(text: str, marks: list[tuple[int, int]], before: bool, after: bool) -> list[Part]:
    parts: list[Part] = []
    at = 0
    for mark_start, mark_end in marks:
        parts.append((text[at:mark_start], False))
        parts.append((text[mark_start:mark_end], True))
        at = mark_end
    parts.append((text[at:], False))
    if before:
        parts.insert(0, (ELLIPSIS, False))
    if after:
        parts.append((ELLIPSIS, False))
    # Neighbouring plain pieces joined, empty ones dropped: one text node each in the UI.
    joined: list[Part] = []
    for piece, marked in parts:
        if not piece:
            continue
        if joined and not marked and not joined[-1][1]:
            joined[-1] = (joined[-1][0] + piece, False)
        else:
            joined.append((piece, marked))
    return joined


def parts_html(parts: list[Part]) -> str:
    """Safe HTML of an excerpt: everything escaped, each match in <mark>…</mark>."""
    return "".join(
        "<mark>" + html.escape(piece) + "</mark>" if marked else html.escape(piece)
        for piece, marked in parts
    )


def highlight_html(body: str, phrases: list[Phrase], width: int = EXCERPT_TOKENS) -> str:
    return parts_html(highlight(body, phrases, width))


def substring_excerpt(body: str, q: str, width: int = EXCERPT_CHARS) -> list[Part]:
    """About `width` characters of `body` around the first (case-insensitive) `q`, with the
    match marked: the LIKE fallback's excerpt, a plain substring."""
    flat = " ".join(body.split())
    needle = " ".join(q.split())
    found = re.search(re.escape(needle), flat, re.IGNORECASE) if needle else None
    if found is None:
        return _parts(flat[:width], [], False, len(flat) > width)
    start = max(0, found.start() - (width - len(needle)) // 3)
    if start:  # begin at a word, not inside one
        space = flat.find(" ", start, found.start())
        start = space + 1 if space != -1 else start
    end = max(found.end(), start + width)
    if end < len(flat):
        space = flat.rfind(" ", found.end(), end)
        end = space if space != -1 else end
    mark = (found.start() - start, found.end() - start)
    return _parts(flat[start:end], [mark], start > 0, end < len(flat))


def excerpt_html(body: str, q: str, width: int = EXCERPT_CHARS) -> str:
    return parts_html(substring_excerpt(body, q, width))
