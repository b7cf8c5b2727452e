"""A synthetic conversation history, written straight into the app's SQLite schema.

Text comes from a Zipf-distributed vocabulary (a few hundred common English words and
20,000 made-up ones), so the search index sees a realistic spread of rare and common
terms. A few marker words are planted at known rates for the search queries.
"""

from __future__ import annotations

import random
import sqlite3
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

COMMON = """the be to of and a in that have i it for not on with he as you do at this but his by
from they we say her she or an will my one all would there their what so up out if about who
get which go me when make can like time no just him know take people into year your good some
could them see other than then now look only come its over think also back after use two how
our work first well way even new want because any these give day most us code file function
error python value list model data server table query install version run test build request
response memory thread string number return class import module option config window button
stream token reply message sqlite index search cache loop async await format parse print"""

# (word, share of messages it is planted in): rare, medium and common markers.
MARKERS = (("zanzibarite", 0.00002), ("quokka", 0.002), ("lighthouse", 0.05))


class TextMaker:
    def __init__(self, seed: int = 42) -> None:
        self.rng = random.Random(seed)
        syllables = ["ka", "lo", "mi", "ne", "ru", "ta", "vo", "shi", "pra", "den", "tor", "quil"]
        made_up = {
            "".join(self.rng.choice(syllables) for _ in range(self.rng.randint(2, 4)))
            for _ in range(30000)
        }
        words = COMMON.split() + sorted(made_up)[:20000]
        weights = [1 / (rank + 1) for rank in range(len(words))]  # Zipf's law
        pool = self.rng.choices(words, weights, k=400_000)
        # Sentences cut from one long Zipf stream: cheap to draw, realistic to index.
        self.sentences = []
        for start in range(0, len(pool) - 16, 11):
            n = self.rng.randint(6, 16)
            self.sentences.append(" ".join(pool[start : start + n]).capitalize() + ".")

    def text(self, sentences: int) -> str:
        body = " ".join(self.rng.choices(self.sentences, k=sentences))
        for word, share in MARKERS:
            if self.rng.random() < share:
                body += f" {word}"
        return body

    def title(self) -> str:
        return self.rng.choice(self.sentences).rstrip(".")[:60]


def generate(
    db_path: Path, conversations: int, messages: int, big: int, seed: int = 42
) -> dict[str, str]:
    """Fill the (migrated, empty) database; returns the ids of one big and one small chat."""
    maker = TextMaker(seed)
    rng = maker.rng
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("PRAGMA synchronous = OFF")  # a benchmark's scratch file: speed over safety
    conn.execute("PRAGMA foreign_keys = OFF")  # rows go in parent-first anyway
    sizes = _sizes(rng, conversations, messages, big)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    ids = {}
    conn.execute("BEGIN")
    for index, size in enumerate(sizes):
        cid = uuid.uuid4().hex
        born = start + timedelta(minutes=index * 50)
        msg_rows, parent = [], None
        for position in range(1, size + 1):
            mid = uuid.uuid4().hex
            role = "user" if position % 2 else "assistant"
            text = maker.text(rng.randint(1, 2) if role == "user" else rng.randint(2, 6))
            when = _stamp(born + timedelta(seconds=position * 20))
            msg_rows.append((mid, cid, position, role, text, "complete", when, parent))
            parent = mid
        updated = _stamp(born + timedelta(seconds=size * 20))
        conn.execute(
            "INSERT INTO conversations (id, title, model, created_at, updated_at, active_leaf_id)"
            " VALUES (?, ?, 'llama3.2:latest', ?, ?, ?)",
            (cid, maker.title(), _stamp(born), updated, parent),
        )
        conn.executemany(
            "INSERT INTO messages (id, conversation_id, position, role, content, status,"
            " created_at, parent_id, model) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'llama3.2:latest')",
            msg_rows,
        )
        if size == big:
            ids["big"] = cid
        elif size > 20:
            ids["small"] = cid
        if index % 500 == 499:
            conn.execute("COMMIT")
            conn.execute("BEGIN")
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("ANALYZE")
    conn.close()
    return ids


def _sizes(rng: random.Random, conversations: int, messages: int, big: int) -> list[int]:
    """Messages per conversation: one of `big`, the rest spread around the mean, exact sum."""
    rest, others = messages - big, conversations - 1
    mean = rest // others
    sizes = [max(2, int(rng.gauss(mean, mean / 3))) for _ in range(others)]
    diff = rest - sum(sizes)
    for i in range(abs(diff)):
        j = i % others
        sizes[j] += 1 if diff > 0 else -1 if sizes[j] > 2 else 0
    sizes[rng.randrange(others)] += rest - sum(sizes)
    sizes.insert(rng.randrange(conversations), big)
    return sizes


def _stamp(moment: datetime) -> str:
    """How the store writes datetimes to SQLite: naive UTC text with microseconds."""
    return moment.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
