"""Forward-only schema migrations, applied at start-up.

The schema version is SQLite's `PRAGMA user_version`: an integer in the file header that
changes inside the same transaction as the migration's DDL, so a migration and its version
commit or roll back together, with no bookkeeping table to create first. Version N means
the first N functions of `MIGRATIONS` have run; append new ones, never edit old ones.

Migrations run on a plain sqlite3 connection with foreign keys off (SQLite's recipe for
table rebuilds) and a `foreign_key_check` before each commit.

Over 300 lines on purpose: the ordered migrations in one file read as the schema's
history, and each is small.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from backend.core.store.db import BUSY_TIMEOUT_MS, StoreError, unusable

log = logging.getLogger(__name__)

Migration = Callable[[sqlite3.Connection], None]


def m001_initial(conn: sqlite3.Connection) -> None:
    """Conversations and their messages."""
    # No CHECK on role/status: a new status would then need a full table rebuild.
    statements = (
        """CREATE TABLE conversations (
            id VARCHAR(32) NOT NULL PRIMARY KEY,
            title VARCHAR(500) NOT NULL,
            model VARCHAR,
            system_prompt TEXT,
            created_at DATETIME NOT NULL,
            updated_at DATETIME NOT NULL
        )""",
        "CREATE INDEX ix_conversations_updated_at ON conversations (updated_at, id)",
        """CREATE TABLE messages (
            id VARCHAR(32) NOT NULL PRIMARY KEY,
            conversation_id VARCHAR(32) NOT NULL
                REFERENCES conversations (id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            role VARCHAR(16) NOT NULL,
            content TEXT NOT NULL,
            thinking TEXT,
            status VARCHAR(16) NOT NULL,
            model VARCHAR,
            error TEXT,
            stats JSON,
            created_at DATETIME NOT NULL
        )""",
        "CREATE UNIQUE INDEX ix_messages_conversation_position"
        " ON messages (conversation_id, position)",
        "CREATE INDEX ix_messages_unfinished ON messages (status)"
        " WHERE status IN ('pending', 'streaming')",
    )
    for statement in statements:
        conn.execute(statement)


# Full-text search: two external-content FTS5 indexes (the text itself stays in its table)
# kept in sync by triggers. `search.py` reinstalls the triggers if a later table rebuild
# drops them, so `SEARCH_TABLES` and `SEARCH_TRIGGERS` (the latest definitions) are shared
# with it. Migrations are frozen: one that changes a trigger gets its own constant, and the
# older constants stay as the older migrations ran them.
SEARCH_TABLES = (
    """CREATE VIRTUAL TABLE search_titles USING fts5(
        title, content='conversations', content_rowid='rowid',
        tokenize='unicode61 remove_diacritics 2', prefix='2 3')""",
    """CREATE VIRTUAL TABLE search_messages USING fts5(
        content, content='messages', content_rowid='rowid',
        tokenize='unicode61 remove_diacritics 2', prefix='2 3')""",
)
_TITLE_TRIGGERS = {
    "search_titles_ai": """CREATE TRIGGER search_titles_ai AFTER INSERT ON conversations BEGIN
        INSERT INTO search_titles (rowid, title) VALUES (new.rowid, new.title); END""",
    "search_titles_ad": """CREATE TRIGGER search_titles_ad AFTER DELETE ON conversations BEGIN
        INSERT INTO search_titles (search_titles, rowid, title)
        VALUES ('delete', old.rowid, old.title); END""",
    "search_titles_au": """CREATE TRIGGER search_titles_au AFTER UPDATE OF title ON conversations
        WHEN old.title IS NOT new.title BEGIN
        INSERT INTO search_titles (search_titles, rowid, title)
        VALUES ('delete', old.rowid, old.title);
        INSERT INTO search_titles (rowid, title) VALUES (new.rowid, new.title); END""",
}
# As m_full_text_search created them: every message indexed, re-indexed on every rewrite.
_EVERY_MESSAGE_TRIGGERS = {
    "search_messages_ai": """CREATE TRIGGER search_messages_ai AFTER INSERT ON messages BEGIN
        INSERT INTO search_messages (rowid, content) VALUES (new.rowid, new.content); END""",
    "search_messages_ad": """CREATE TRIGGER search_messages_ad AFTER DELETE ON messages BEGIN
        INSERT INTO search_messages (search_messages, rowid, content)
        VALUES ('delete', old.rowid, old.content); END""",
    "search_messages_au": """CREATE TRIGGER search_messages_au AFTER UPDATE OF content ON messages
        WHEN old.content IS NOT new.content BEGIN
        INSERT INTO search_messages (search_messages, rowid, content)
        VALUES ('delete', old.rowid, old.content);
        INSERT INTO search_messages (rowid, content) VALUES (new.rowid, new.content); END""",
}
# Since m_index_finished_messages: a message is in the index exactly while its status is
# finished. A streaming reply is rewritten ~4 times a second, and re-indexing its whole
# growing text each time made streaming cost quadratic in the reply's length; it is now
# indexed once, when it gets its final status. The invariant matters: an external-content
# 'delete' of values that were never indexed corrupts the index, so every path keeps it.
_FINISHED = "NOT IN ('pending', 'streaming')"
_FINISHED_MESSAGE_TRIGGERS = {
    "search_messages_ai": f"""CREATE TRIGGER search_messages_ai AFTER INSERT ON messages
        WHEN new.status {_FINISHED} BEGIN
        INSERT INTO search_messages (rowid, content) VALUES (new.rowid, new.content); END""",
    "search_messages_ad": f"""CREATE TRIGGER search_messages_ad AFTER DELETE ON messages
        WHEN old.status {_FINISHED} BEGIN
        INSERT INTO search_messages (search_messages, rowid, content)
        VALUES ('delete', old.rowid, old.content); END""",
    "search_messages_au": f"""CREATE TRIGGER search_messages_au
        AFTER UPDATE OF content, status ON messages
        WHEN old.content IS NOT new.content OR old.status IS NOT new.status BEGIN
        INSERT INTO search_messages (search_messages, rowid, content)
        SELECT 'delete', old.rowid, old.content WHERE old.status {_FINISHED};
        INSERT INTO search_messages (rowid, content)
        SELECT new.rowid, new.content WHERE new.status {_FINISHED}; END""",
}
SEARCH_TRIGGERS = {**_TITLE_TRIGGERS, **_FINISHED_MESSAGE_TRIGGERS}


def rebuild_message_index(conn: sqlite3.Connection) -> None:
    """Index exactly the finished messages, as the triggers keep it.

    Not FTS5's 'rebuild', which indexes every row of the content table: a reply still
    streaming would then be in the index, and its first rewrite would corrupt it.
    """
    conn.execute("INSERT INTO search_messages (search_messages) VALUES ('delete-all')")
    conn.execute(
        "INSERT INTO search_messages (rowid, content)"
        f" SELECT rowid, content FROM messages WHERE status {_FINISHED}"
    )


def fts5_available(conn: sqlite3.Connection) -> bool:
    """Whether this Python's SQLite was built with FTS5 (nearly all are)."""
    try:
        conn.execute("CREATE VIRTUAL TABLE temp.fts5_probe USING fts5(x)")
    except sqlite3.OperationalError:
        return False
    conn.execute("DROP TABLE temp.fts5_probe")
    return True


def m_full_text_search(conn: sqlite3.Connection) -> None:
    """FTS5 indexes of titles and message text; without FTS5, search keeps using LIKE."""
    if not fts5_available(conn):
        log.warning("this SQLite has no FTS5: search will scan text instead of an index")
        return
    for statement in (*SEARCH_TABLES, *_TITLE_TRIGGERS.values(), *_EVERY_MESSAGE_TRIGGERS.values()):
        conn.execute(statement)
    for table in ("search_titles", "search_messages"):
        conn.execute(f"INSERT INTO {table} ({table}) VALUES ('rebuild')")


def m_message_tree(conn: sqlite3.Connection) -> None:
    """Messages form a tree (edits and regenerations are branches); per-conversation settings.

    Existing conversations are linear: each message's parent is the one before it, and the
    active leaf is the newest message.
    """
    statements = (
        # ADD COLUMN may carry REFERENCES because its default is NULL: no table rebuild.
        "ALTER TABLE messages ADD COLUMN parent_id VARCHAR(32)"
        " REFERENCES messages (id) ON DELETE CASCADE",
        """UPDATE messages SET parent_id = (
            SELECT p.id FROM messages AS p
            WHERE p.conversation_id = messages.conversation_id AND p.position < messages.position
            ORDER BY p.position DESC LIMIT 1
        )""",
        "CREATE INDEX ix_messages_parent ON messages (parent_id)",
        "ALTER TABLE conversations ADD COLUMN active_leaf_id VARCHAR(32)",
        "ALTER TABLE conversations ADD COLUMN options JSON",
        "ALTER TABLE conversations ADD COLUMN think BOOLEAN",
        """UPDATE conversations SET active_leaf_id = (
            SELECT m.id FROM messages AS m WHERE m.conversation_id = conversations.id
            ORDER BY m.position DESC LIMIT 1
        )""",
    )
    for statement in statements:
        conn.execute(statement)


def m_index_finished_messages(conn: sqlite3.Connection) -> None:
    """Index a message once it is finished instead of at every rewrite while it streams.

    The old message triggers go even without FTS5: a file that has the index tables but
    no triggers gets them, and a rebuilt index, from `search.prepare` at open.
    """
    for name in _FINISHED_MESSAGE_TRIGGERS:
        conn.execute(f"DROP TRIGGER IF EXISTS {name}")
    names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    if not fts5_available(conn) or "search_messages" not in names:
        return
    for statement in _FINISHED_MESSAGE_TRIGGERS.values():
        conn.execute(statement)
    rebuild_message_index(conn)


def m_conversation_endpoint(conn: sqlite3.Connection) -> None:
    """A conversation remembers the endpoint its model is on (NULL: the Ollama one)."""
    conn.execute("ALTER TABLE conversations ADD COLUMN endpoint_id VARCHAR(64)")


def m_pinned_conversations(conn: sqlite3.Connection) -> None:
    """A conversation can be pinned to the top of the list; none is at first."""
    conn.execute("ALTER TABLE conversations ADD COLUMN pinned BOOLEAN NOT NULL DEFAULT 0")


def m_message_endpoint(conn: sqlite3.Connection) -> None:
    """A reply remembers the endpoint of the model that wrote it (NULL: not recorded)."""
    conn.execute("ALTER TABLE messages ADD COLUMN endpoint_id VARCHAR(64)")


def m_message_images(conn: sqlite3.Connection) -> None:
    """Images attached to user messages. An upload waits with no message (NULL) until a
    message takes it; deleting a message (or its conversation) deletes its images."""
    conn.execute(
        """CREATE TABLE images (
            id VARCHAR(32) NOT NULL PRIMARY KEY,
            message_id VARCHAR(32) REFERENCES messages (id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            mime VARCHAR(32) NOT NULL,
            size INTEGER NOT NULL,
            data BLOB NOT NULL,
            created_at DATETIME NOT NULL
        )"""
    )
    conn.execute("CREATE INDEX ix_images_message ON images (message_id, position)")


MIGRATIONS: tuple[Migration, ...] = (
    m001_initial,
    m_full_text_search,
    m_message_tree,
    m_index_finished_messages,
    m_conversation_endpoint,
    m_pinned_conversations,
    m_message_endpoint,
    m_message_images,
)
LATEST_VERSION = len(MIGRATIONS)


@dataclass(frozen=True)
class MigrationResult:
    old_version: int
    new_version: int
    backup: Path | None


def migrate(path: Path, migrations: Sequence[Migration] = MIGRATIONS) -> MigrationResult:
    """Bring the database at `path` (created if absent) to `len(migrations)`."""
    try:
        conn = sqlite3.connect(path, isolation_level=None)
    except sqlite3.Error as exc:
        raise unusable(path, exc) from exc
    try:
        return _migrate(conn, path, migrations)
    except sqlite3.Error as exc:
        raise unusable(path, exc) from exc
    finally:
        conn.close()


# quick_check reads every page (~1 s per GB): at start-up for any database a person is
# likely to have, and skipped above this size so start-up stays fast on huge archives.
INTEGRITY_CHECK_MAX_BYTES = 256 * 1024 * 1024


def _check_integrity(conn: sqlite3.Connection, path: Path) -> None:
    """Refuse a damaged database before anything writes to it (so it stays as it was)."""
    if path.stat().st_size > INTEGRITY_CHECK_MAX_BYTES:
        log.info(
            "integrity check skipped for %s: larger than %d bytes", path, INTEGRITY_CHECK_MAX_BYTES
        )
        return
    problems = [row[0] for row in conn.execute("PRAGMA quick_check(1)")]
    if problems != ["ok"]:
        lines = [ln for ln in "\n".join(problems).splitlines() if ln and not ln.startswith("***")]
        raise StoreError(
            f"The database {path} is damaged ({lines[0] if lines else 'failed its check'}); "
            "it was left as it is. "
            "Restore it from a backup or move it aside to start afresh."
        )


def _migrate(
    conn: sqlite3.Connection, path: Path, migrations: Sequence[Migration]
) -> MigrationResult:
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    # Reading the header and the schema first: a file that is not SQLite fails here,
    # before anything has been written to it.
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    has_data = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] > 0
    if has_data:
        _check_integrity(conn, path)
    if version > len(migrations):
        raise StoreError(
            f"The database {path} has schema version {version}, newer than this app's "
            f"{len(migrations)}; it was written by a newer CloudToLocalLLM."
        )
    # Fail now, not at the first message, if the file is read-only: a real (rolled
    # back) write, since BEGIN IMMEDIATE alone succeeds on a read-only WAL database.
    conn.execute("BEGIN IMMEDIATE")
    conn.execute(f"PRAGMA user_version = {version}")
    conn.execute("ROLLBACK")
    pending = list(enumerate(migrations, start=1))[version:]
    backup = backup_database(conn, path, version) if pending and has_data else None
    conn.execute("PRAGMA foreign_keys = OFF")
    for number, migration in pending:
        _apply(conn, number, migration)
        log.info("migrated %s to schema version %d (%s)", path, number, migration.__name__)
    return MigrationResult(version, max(version, len(migrations)), backup)


def _apply(conn: sqlite3.Connection, number: int, migration: Migration) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        migration(conn)
        broken = conn.execute("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise sqlite3.IntegrityError(
                f"migration {number} ({migration.__name__}) broke {len(broken)} foreign keys"
            )
        conn.execute(f"PRAGMA user_version = {number}")
        conn.execute("COMMIT")
    except BaseException:
        # Whatever went wrong, the file must stay at the previous version, untouched.
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def backup_database(conn: sqlite3.Connection, path: Path, version: int) -> Path:
    """Copy the database beside itself as `<name>.bak-v<version>`; never overwrite one."""
    target = path.with_name(f"{path.name}.bak-v{version}")
    suffix = 1
    while target.exists():
        suffix += 1
        target = path.with_name(f"{path.name}.bak-v{version}-{suffix}")
    partial = target.with_name(target.name + ".partial")
    try:
        partial.unlink(missing_ok=True)  # left by a crash during an earlier backup
        # The backup API reads through this connection, so WAL content is included.
        copy = sqlite3.connect(partial)
        try:
            conn.backup(copy)
        finally:
            copy.close()
        partial.replace(target)
    except (sqlite3.Error, OSError) as exc:
        partial.unlink(missing_ok=True)
        raise unusable(path, f"could not back it up to {target} before migrating: {exc}") from exc
    log.info("backed up %s (schema version %d) to %s", path, version, target)
    return target
