"""A reply's Markdown as the words a reader sees, for search excerpts.

An excerpt of `| Model | Speed |` or `**bold**` should read "Model Speed" and "bold". This
is not a renderer: it works line by line, dropping what only shapes the text (table
rules and pipes, fences, heading, quote and list markers, emphasis, link targets, HTML
tags, escapes) and keeping every word. Code inside a fence is kept as written. Being
line-local apart from the fences, it can convert a slice of a long reply on its own:
`plain_near` converts only the text around a match.
"""

from __future__ import annotations

import re

# A fence line: up to three spaces, then ``` or ~~~ (three or more) and maybe an info string.
_FENCE_LINE = re.compile(r"^ {0,3}(`{3,}|~{3,})([^`\n]*)$", re.MULTILINE)
# The same after a "\n": scanned for at C speed through a long reply (see below).
_FENCE_AFTER_NEWLINE = re.compile(r"\n {0,3}(`{3,}|~{3,})([^`\n]*)(?=\n|$)")
KEEP = None  # a rule's replacement: what its groups matched

# A regular expression over a whole stretch of text at a time (a reply has thousands of
# lines), run only when the characters it needs are there: `[ \t]`, not `\s`, so that no
# pattern reaches the next line. A line's start is its "\n" (the text is framed by two): a
# pattern that starts with a literal is scanned for at C speed, where `^` would be tried at
# every character.
_RULES = [
    (needs, re.compile(pattern), to)
    for needs, pattern, to in (
        # A table's delimiter row (|---|:--:|) or a thematic break (---, * * *): no words.
        ("-", r"\n[ \t]*\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*(?=\n)", ""),
        ("", r"\n[ \t]{0,3}(?:(?:-[ \t]*){3,}|(?:\*[ \t]*){3,}|(?:_[ \t]*){3,})(?=\n)", ""),
        # A heading, its closing hashes too; quote markers; a list item and its task box.
        ("#", r"(\n[ \t]{0,3}(?:>[ \t]?)*)#{1,6}[ \t]+([^\n]*?)(?:[ \t]+#+)?[ \t]*(?=\n)", KEEP),
        (">", r"\n[ \t]{0,3}(?:>[ \t]?)+", "\n"),
        ("", r"\n[ \t]*(?:[-*+]|\d{1,9}[.)])[ \t]+(?:\[[ xX]\][ \t]+)?", "\n"),
        ("[", r"\[([^\]\n]*)\](?:\([^)\n]*\)|\[[^\]\n]*\])", KEEP),  # a link: its text
        ("<", r"<((?:https?|mailto):[^>\s]+)>", KEEP),
        ("<", r"</?[A-Za-z][A-Za-z0-9-]*(?:[ \t][^<>\n]*)?/?>", " "),  # an HTML tag
        ("`", r"``[ \t]?([^\n]+?)[ \t]?``", KEEP),  # a code span: its code
        ("`", r"`([^`\n]+)`", KEEP),
    )
]
# Emphasis, each marker inside out (twice: `**bold *and italic***`). An `*` may stand inside
# a word (a*b*c renders as a<em>b</em>c), an `_` may not (snake_case_name stays).
_EMPHASIS = [
    (needs, re.compile(pattern), KEEP)
    for needs, pattern in (
        ("*", r"\*\*\*(?![\s*])([^*\n]+)(?<!\s)\*\*\*"),
        ("*", r"\*\*(?![\s*])([^*\n]+)(?<!\s)\*\*"),
        ("*", r"\*(?![\s*])([^*\n]+)(?<!\s)\*"),
        ("_", r"__(?<![\w\\]__)(?![\s_])([^_\n]+)(?<!\s)__(?!\w)"),
        ("_", r"_(?<![\w\\]_)(?![\s_])([^_\n]+)(?<!\s)_(?!\w)"),
        ("~", r"~~(?![\s~])([^~\n]+)(?<!\s)~~"),
    )
] * 2
_ALL_RULES = _RULES + _EMPHASIS
_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")

# Converted around a match: far more than an excerpt shows (up to ~36 characters before it,
# twelve words in all), so whatever is cut in two at these ends is not in the excerpt.
NEAR_BEFORE = 240
NEAR_AFTER = 480
LINE_REACH = 120  # a cut moves this far to fall between lines


def plain_text(markdown: str, *, in_fence: str | None = None) -> str:
    """The words of `markdown`; `in_fence`: the fence it starts inside, if any."""
    out = []
    fence = in_fence
    at = 0
    for line in _FENCE_LINE.finditer(markdown):
        marker, info = line.group(1), line.group(2)
        if fence is None:
            out.append(_words(markdown[at : line.start()]))
            out.append(info.strip())  # the info string: a language is a word
            fence = marker
        elif marker[0] == fence[0] and len(marker) >= len(fence) and not info.strip():
            out.append(markdown[at : line.start()])  # code: kept as written
            fence = None
        else:
            continue
        at = line.end()
    rest = markdown[at:]
    out.append(rest if fence is not None else _words(rest))
    return "".join(out)


def _words(text: str) -> str:
    text = "\n" + text.replace("![", "[") + "\n"  # an image: its description, as a link
    for needs, pattern, to in _ALL_RULES:
        if needs in text:
            # What the groups matched, between the pieces around each match: a sub() with
            # "\\1" would call back into Python for every match.
            text = pattern.sub(to, text) if to is not KEEP else "".join(pattern.split(text))
    if "|" in text:  # a table's cells side by side (a `\|` is a pipe in a cell)
        text = text.replace("\\|", "\0").replace("|", " ").replace("\0", "|")
    if "\\" in text:
        text = "".join(_ESCAPE.split(text))
    return text[1:-1]


def fence_at(markdown: str, end: int) -> str | None:
    """The fence open at offset `end` of `markdown`, or None."""
    head = markdown[:end]
    if "```" not in head and "~~~" not in head:
        return None
    fence = None
    for opened in _FENCE_AFTER_NEWLINE.finditer("\n" + head):
        if fence is None:
            fence = opened.group(1)
        elif opened.group(1)[0] == fence[0] and len(opened.group(1)) >= len(fence):
            if not opened.group(2).strip():
                fence = None
    return fence


def plain_near(markdown: str, at: int) -> tuple[str, bool, bool]:
    """The words of `markdown` from a little before offset `at` to some way after it, and
    whether text was left out before and after: a long reply is not converted whole for
    one excerpt. The cuts fall at a line's start or a space, far enough from `at` that
    markup cut in two there (an `**` whose pair was left out) is not in the excerpt."""
    if len(markdown) <= NEAR_BEFORE + NEAR_AFTER:
        return plain_text(markdown), False, False
    start = _cut(markdown, max(0, at - NEAR_BEFORE), backwards=True)
    end = _cut(markdown, min(len(markdown), at + NEAR_AFTER), backwards=False)
    body = plain_text(markdown[start:end], in_fence=fence_at(markdown, start))
    return body, start > 0, end < len(markdown)


def _cut(markdown: str, near: int, *, backwards: bool) -> int:
    """A line's start (or end) within a line's reach of `near`, else a space there."""
    if near in (0, len(markdown)):
        return near
    if backwards:
        line = markdown.rfind("\n", near - LINE_REACH, near)
        space = max(markdown.rfind(" ", 0, near), 0)
        return line + 1 if line != -1 else space
    line = markdown.find("\n", near, near + LINE_REACH)
    space = markdown.find(" ", near)
    return line if line != -1 else (space if space != -1 else len(markdown))
