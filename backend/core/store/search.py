"""Searching conversations: SQLite FTS5 over titles and message text, LIKE where FTS5 is absent.

How typed text becomes a query, and the excerpts, are in `search_text.py`. Ranking: title
matches first, by bm25; then conversations whose messages match, by how many of their
messages match; ties go to the newest `updated_at`. Only the newest `MESSAGE_HIT_CAP`
matching messages are counted, which keeps a query that matches nearly everything fast;
the excerpt of a message match comes from the newest matching message.

The index tables are external-content FTS5 tables keyed by the rowids of `conversations`
and `messages`. Only finished messages are indexed (see `migrations.py`): a reply's text
becomes searchable when it stops streaming. A VACUUM may renumber those rowids: whoever
adds one must rebuild the index after it (`rebuild_index`).
"""

from __future__ import annotations

import logging
import sqlite3
import weakref
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, and_, exists, func, or_, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from backend.core.store.branches import hidden_hits
from backend.core.store.db import BUSY_TIMEOUT_MS
from backend.core.store.excerpts import message_excerpt, message_substring_excerpt
from backend.core.store.migrations import (
    SEARCH_TABLES,
    SEARCH_TRIGGERS,
    fts5_available,
    rebuild_message_index,
)
from backend.core.store.models import Conversation, Message, conversation_dict
from backend.core.store.search_text import (
    Part,
    Phrase,
    fts_match,
    highlight,
    parse_query,
    parts_html,
    substring_excerpt,
)
from backend.core.store.validation import escape_like

log = logging.getLogger(__name__)

MESSAGE_HIT_CAP = 2000
_UNFINISHED = ("pending", "streaming")  # models.UNFINISHED_SQL; the index skips these
_INDEX_TABLES = ("search_titles", "search_messages")

# Which engines can use the FTS5 index: decided at open by prepare(), else on first search.
_fts_usable: weakref.WeakKeyDictionary[Engine, bool] = weakref.WeakKeyDictionary()


def search_conversations(
    session: Session, q: str, *, limit: int, offset: int
) -> list[dict[str, Any]]:
    """Conversations matching `q`, each with `snippet`, `match` and maybe `message_id`."""
    # SQLite reads text as C strings: a NUL would end the pattern early (and an empty one
    # matches every row). It separates words, as a space does.
    q = q.replace("\0", " ").strip()
    if not q:
        return []
    phrases = parse_query(q)
    if phrases and _index_usable(session):
        return _fts_search(session, phrases, limit, offset)
    # No FTS5, or nothing the index can look up (only punctuation or emoji): scan the text.
    return _like_search(session, q, limit, offset)


# -- the index --------------------------------------------------------------------


def prepare(engine: Engine, path: Path) -> bool:
    """At open: make the index agree with this SQLite and the schema; True if it is usable.

    With FTS5: (re)create what is missing, e.g. triggers dropped by a later table rebuild
    or an index never built because the file was migrated where FTS5 was absent, then
    rebuild it from the tables. Without FTS5: drop the triggers, or every write to a
    message would fail on the index it cannot open.
    """
    try:
        usable = _repair_file(path)
    except sqlite3.Error as exc:
        # Not fatal: search then decides on its first use, falling back to LIKE.
        log.warning("could not check the search index of %s: %s", path, exc)
        return False
    _fts_usable[engine] = usable
    return usable


def _repair_file(path: Path) -> bool:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("BEGIN IMMEDIATE")
        try:
            usable = _repair(conn)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return usable
    finally:
        conn.close()


def _repair(conn: sqlite3.Connection) -> bool:
    names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    missing = [name for name in SEARCH_TRIGGERS if name not in names]
    if not fts5_available(conn):
        for name in set(SEARCH_TRIGGERS) - set(missing):
            conn.execute(f"DROP TRIGGER {name}")
        if len(missing) < len(SEARCH_TRIGGERS):
            log.warning("this SQLite has no FTS5: search index disabled, text is scanned")
        return False
    if not missing and all(table in names for table in _INDEX_TABLES):
        return True
    for table, statement in zip(_INDEX_TABLES, SEARCH_TABLES, strict=True):
        if table not in names:
            conn.execute(statement)
    for name in missing:
        conn.execute(SEARCH_TRIGGERS[name])
    rebuild_index(conn)
    log.info("rebuilt the search index (%d trigger(s) were missing)", len(missing))
    return True


def rebuild_index(conn: sqlite3.Connection) -> None:
    """Rebuild both indexes from their tables (in the caller's transaction)."""
    conn.execute("INSERT INTO search_titles (search_titles) VALUES ('rebuild')")
    # Not 'rebuild' for messages: that would also index the replies still streaming.
    rebuild_message_index(conn)


def _index_usable(session: Session) -> bool:
    engine = session.get_bind()
    usable = _fts_usable.get(engine)
    if usable is None:
        usable = _probe(session)
        _fts_usable[engine] = usable
    return usable


def _probe(session: Session) -> bool:
    """Without prepare(): the index is usable if all of it exists and FTS5 can open it."""
    names = set(session.scalars(text("SELECT name FROM sqlite_master")))
    if not names >= {*_INDEX_TABLES, *SEARCH_TRIGGERS}:
        return False
    try:
        with session.begin_nested():
            session.execute(text("SELECT rowid FROM search_titles LIMIT 0"))
    except DBAPIError:
        return False
    return True


# -- FTS5 search --------------------------------------------------------------------

_FTS_SQL = text(
    """
WITH title_hits AS MATERIALIZED (
    SELECT c.id AS cid, bm25(search_titles) AS score, c.updated_at AS updated_at
    FROM search_titles JOIN conversations AS c ON c.rowid = search_titles.rowid
    WHERE search_titles MATCH :q
),
message_hits AS MATERIALIZED (
    SELECT m.conversation_id AS cid, search_messages.rowid AS mrow
    FROM search_messages JOIN messages AS m ON m.rowid = search_messages.rowid
    WHERE search_messages MATCH :q
    ORDER BY search_messages.rowid DESC LIMIT :cap
),
by_conversation AS MATERIALIZED (
    -- More matching messages rank higher; the newest matching one is shown.
    SELECT cid, max(mrow) AS mrow, -count(*) AS score FROM message_hits
    WHERE cid NOT IN (SELECT cid FROM title_hits) GROUP BY cid
),
page AS (
    -- Title hits carry their `updated_at` from the join above: a word in thousands of
    -- titles is not looked up again by id.
    SELECT cid, 0 AS tier, score, NULL AS mrow, updated_at FROM title_hits
    UNION ALL
    SELECT b.cid, 1, b.score, b.mrow, c.updated_at
    FROM by_conversation AS b JOIN conversations AS c ON c.id = b.cid
    ORDER BY 2, 3, 5 DESC, 1 DESC
    LIMIT :limit OFFSET :offset
)
SELECT p.cid AS id, p.tier, m.id AS message_id, m.content, m.role,
       (SELECT count(*) FROM messages WHERE conversation_id = p.cid) AS message_count
FROM page AS p LEFT JOIN messages AS m ON m.rowid = p.mrow
ORDER BY p.tier, p.score, p.updated_at DESC, p.cid DESC
"""
)


def _fts_search(
    session: Session, phrases: list[Phrase], limit: int, offset: int
) -> list[dict[str, Any]]:
    params = {"q": fts_match(phrases), "cap": MESSAGE_HIT_CAP, "limit": limit, "offset": offset}
    rows = session.execute(_FTS_SQL, params).all()
    conversations = _load_conversations(session, [row.id for row in rows])
    results = []
    for row in rows:
        conversation = conversations[row.id]
        found = conversation_dict(conversation, row.message_count)
        if row.tier == 0:
            _add_match(found, "title", highlight(conversation.title, phrases))
        else:
            parts = message_excerpt(row.content, row.role, phrases)
            _add_match(found, "message", parts, row.message_id)
        results.append(found)
    _flag_hidden_branches(session, results)
    return results


def _add_match(
    found: dict[str, Any], where: str, parts: list[Part], message_id: str | None = None
) -> None:
    found.update(match=where, snippet=parts_html(parts))
    found["snippet_parts"] = [{"text": text, "mark": marked} for text, marked in parts]
    if message_id is not None:
        found["message_id"] = message_id


def _flag_hidden_branches(session: Session, results: list[dict[str, Any]]) -> None:
    """`hidden_branch` on each message match: whether it is on a version not shown."""
    hits = {r["message_id"]: r["id"] for r in results if r["match"] == "message"}
    hidden = hidden_hits(session, hits)
    for result in results:
        if result["match"] == "message":
            result["hidden_branch"] = result["message_id"] in hidden


def _load_conversations(session: Session, ids: list[str]) -> dict[str, Any]:
    """The page's conversations as plain rows (read only: cheaper than ORM objects)."""
    if not ids:
        return {}
    columns = Conversation.__table__.columns
    found = session.execute(select(*columns).where(Conversation.id.in_(ids)))
    return {row.id: row for row in found}


# -- LIKE search (no FTS5, or a query of symbols only) -------------------------------


def _like_search(session: Session, q: str, limit: int, offset: int) -> list[dict[str, Any]]:
    """The search before FTS5: one substring, ASCII case ignored, newest first; the
    excerpt comes from the newest matching message, and a reply still streaming is not
    searched yet, as with the index."""
    pattern = "%" + escape_like(q) + "%"
    in_title = Conversation.title.like(pattern, escape="\\")
    finished = Message.status.not_in(_UNFINISHED)
    matching = and_(Message.content.like(pattern, escape="\\"), finished)
    in_messages = exists().where(Message.conversation_id == Conversation.id, matching)
    stmt = (
        select(Conversation, _message_count(), in_title)
        .where(or_(in_title, in_messages))
        .order_by(Conversation.updated_at.desc(), Conversation.id.desc())
        .limit(limit)
        .offset(offset)
    )
    results = []
    for conversation, count, title_hit in session.execute(stmt).all():
        found = conversation_dict(conversation, count)
        if title_hit:
            _add_match(found, "title", substring_excerpt(conversation.title, q))
        else:
            first = session.execute(
                select(Message.id, Message.content, Message.role)
                .where(Message.conversation_id == conversation.id, matching)
                .order_by(Message.position.desc())
                .limit(1)
            ).one()
            parts = message_substring_excerpt(first.content, first.role, q)
            _add_match(found, "message", parts, first.id)
        results.append(found)
    _flag_hidden_branches(session, results)
    return results


def _message_count() -> Any:
    return (
        select(func.count())
        .select_from(Message)
        .where(Message.conversation_id == Conversation.id)
        .scalar_subquery()
    )
