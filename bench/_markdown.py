"""A long Markdown reply, as a model would write it, cut into model-sized tokens."""

from __future__ import annotations

import random
import re

_WORDS = """the request handler reads each line of the stream and parses it before the next one
arrives so memory stays flat while the model keeps writing tokens into the socket buffer
which the reader drains in order to keep latency low under load with several clients""".split()

_LANGS = ("python", "javascript", "bash", "sql", "")


def _sentence(rng: random.Random) -> str:
    words = rng.choices(_WORDS, k=rng.randint(8, 20))
    if rng.random() < 0.3:
        i = rng.randrange(len(words))
        words[i] = f"`{words[i]}()`"
    if rng.random() < 0.2:
        i = rng.randrange(len(words))
        words[i] = f"**{words[i]}**"
    return " ".join(words).capitalize() + "."


def _code(rng: random.Random, lang: str, n: int) -> str:
    lines = []
    for i in range(rng.randint(12, 30)):
        if lang == "python":
            lines.append(f"    total_{i} = compute(item_{i}, limit={i * n}) + offset  # step {i}")
        elif lang == "javascript":
            lines.append(f"  const value{i} = await fetchItem({i}, {{ limit: {i * n} }});")
        elif lang == "bash":
            lines.append(f"curl -s http://127.0.0.1:11434/api/tags | jq '.models[{i}].name'")
        elif lang == "sql":
            lines.append(f"SELECT id, title FROM conversations WHERE rowid > {i * n} LIMIT 50;")
        else:
            lines.append(f"[{i:03d}] worker {n} finished batch {i} in {i * 7} ms")
    head = {"python": "def handler(item):", "javascript": "async function run() {"}.get(lang)
    tail = {"javascript": "}"}.get(lang)
    body = ([head] if head else []) + lines + ([tail] if tail else [])
    return f"```{lang}\n" + "\n".join(body) + "\n```"


def document(rng: random.Random, blocks: int) -> str:
    """Headings, paragraphs, lists, a table now and then, and a code block every few."""
    parts = []
    for n in range(blocks):
        kind = n % 7
        if kind == 0:
            parts.append(f"## Step {n // 7 + 1}: {' '.join(rng.choices(_WORDS, k=4))}")
        elif kind in (1, 4):
            parts.append(" ".join(_sentence(rng) for _ in range(rng.randint(2, 5))))
        elif kind == 2:
            parts.append("\n".join(f"- {_sentence(rng)}" for _ in range(rng.randint(3, 6))))
        elif kind == 3:
            parts.append(_code(rng, rng.choice(_LANGS), n))
        elif kind == 5:
            rows = [f"| {i} | `{rng.choice(_WORDS)}` | {i * 13} ms |" for i in range(4)]
            parts.append("| # | name | time |\n|---|---|---|\n" + "\n".join(rows))
        else:
            parts.append("\n".join(f"{i}. {_sentence(rng)}" for i in range(1, 4)))
    return "\n\n".join(parts) + "\n"


def tokens(count: int, seed: int = 1) -> list[str]:
    """`count` tokens (a word with its leading space, or a run of newlines) of a document."""
    rng = random.Random(seed)
    pieces: list[str] = []
    blocks = 64
    while len(pieces) < count:
        pieces = re.findall(r"[ \t]*[^\s]+|\n+", document(rng, blocks))
        blocks *= 2
    return pieces[:count]
