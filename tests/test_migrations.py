"""Schema versioning: fresh databases, forward migrations from old files, backups."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from backend.core.store import LATEST_VERSION, Store, StoreError
from backend.core.store.migrations import MIGRATIONS, migrate
from backend.core.store.models import Base


def _v2_add_archived(conn: sqlite3.Connection) -> None:
    conn.execute("ALTER TABLE conversations ADD COLUMN archived INTEGER NOT NULL DEFAULT 0")


def _v3_add_search_index(conn: sqlite3.Connection) -> None:
    conn.execute(
        "CREATE VIRTUAL TABLE messages_fts USING fts5(content, content='messages',"
        " content_rowid='rowid')"
    )
    conn.execute("INSERT INTO messages_fts (messages_fts) VALUES ('rebuild')")


LATER = (*MIGRATIONS, _v2_add_archived, _v3_add_search_index)


def _query(path: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def _version(path: Path) -> int:
    return _query(path, "PRAGMA user_version")[0][0]


def _backups(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if ".bak-" in p.name)


def _filled_store(path: Path) -> str:
    with Store(path) as store:
        conv = store.create_conversation("Kept", model="llama3")
        store.add_message(conv["id"], "user", "Where is the lighthouse?")
        reply = store.add_message(conv["id"], "assistant", "On the cape.")
        store.update_message(reply["id"], stats={"eval_count": 4})
    return conv["id"]


def test_fresh_database_gets_latest_version(tmp_path: Path) -> None:
    path = tmp_path / "cloudtolocalllm.db"
    with Store(path) as store:
        assert (store.migration.old_version, store.migration.new_version) == (0, LATEST_VERSION)
        assert store.migration.backup is None
    assert _version(path) == LATEST_VERSION == len(MIGRATIONS)
    assert _backups(tmp_path) == []


def test_migrated_schema_matches_the_models(tmp_path: Path) -> None:
    path = tmp_path / "cloudtolocalllm.db"
    Store(path).close()
    for table in Base.metadata.sorted_tables:
        columns = {
            row[1]: (bool(row[3]), bool(row[5]))
            for row in _query(path, f"PRAGMA table_info({table.name})")
        }
        expected = {c.name: (not c.nullable, c.primary_key) for c in table.columns}
        assert columns == expected, table.name
        indexes = {row[1] for row in _query(path, f"PRAGMA index_list({table.name})")}
        assert {index.name for index in table.indexes} <= indexes
    fks = _query(path, "PRAGMA foreign_key_list(messages)")
    assert sorted((fk[2], fk[3], fk[6]) for fk in fks) == [
        ("conversations", "conversation_id", "CASCADE"),
        ("messages", "parent_id", "CASCADE"),
    ]


def test_version_0_file_with_data_is_backed_up_then_migrated(tmp_path: Path) -> None:
    path = tmp_path / "cloudtolocalllm.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (body TEXT)")
    conn.execute("INSERT INTO notes VALUES ('keep me')")
    conn.commit()
    conn.close()
    with Store(path) as store:
        assert store.migration.backup == tmp_path / "cloudtolocalllm.db.bak-v0"
        store.create_conversation("works")
    assert _version(path) == LATEST_VERSION
    assert _query(path, "SELECT body FROM notes") == [("keep me",)]
    backup = tmp_path / "cloudtolocalllm.db.bak-v0"
    assert _version(backup) == 0
    assert _query(backup, "SELECT name FROM sqlite_master") == [("notes",)]
    assert _query(backup, "SELECT body FROM notes") == [("keep me",)]


def test_current_file_with_data_is_migrated_forward(tmp_path: Path) -> None:
    path = tmp_path / "cloudtolocalllm.db"
    conversation_id = _filled_store(path)
    before = _query(path, "SELECT * FROM messages ORDER BY position")
    result = migrate(path, LATER)
    assert (result.old_version, result.new_version) == (LATEST_VERSION, LATEST_VERSION + 2)
    assert result.backup == tmp_path / f"cloudtolocalllm.db.bak-v{LATEST_VERSION}"
    assert _version(path) == LATEST_VERSION + 2
    assert _query(path, "SELECT * FROM messages ORDER BY position") == before
    assert _query(path, "SELECT id, title, archived FROM conversations") == [
        (conversation_id, "Kept", 0)
    ]
    found = _query(path, "SELECT content FROM messages_fts WHERE messages_fts MATCH 'lighthouse'")
    assert found == [("Where is the lighthouse?",)]
    assert _version(result.backup) == LATEST_VERSION
    assert _query(result.backup, "SELECT * FROM messages ORDER BY position") == before
    assert "archived" not in {
        row[1] for row in _query(result.backup, "PRAGMA table_info(conversations)")
    }


def test_reopening_applies_nothing_twice(tmp_path: Path) -> None:
    path = tmp_path / "cloudtolocalllm.db"
    calls: list[str] = []

    def counted(migration):
        def run(conn: sqlite3.Connection) -> None:
            calls.append(migration.__name__)
            migration(conn)

        run.__name__ = migration.__name__
        return run

    _filled_store(path)
    counting = (*MIGRATIONS, counted(_v2_add_archived), counted(_v3_add_search_index))
    migrate(path, counting)
    again = migrate(path, counting)
    assert calls == ["_v2_add_archived", "_v3_add_search_index"]
    latest = LATEST_VERSION + 2
    assert (again.old_version, again.new_version, again.backup) == (latest, latest, None)
    assert _backups(tmp_path) == [f"cloudtolocalllm.db.bak-v{LATEST_VERSION}"]


def test_reopening_the_current_schema_makes_no_backup(tmp_path: Path) -> None:
    path = tmp_path / "cloudtolocalllm.db"
    _filled_store(path)
    with Store(path) as store:
        assert (store.migration.old_version, store.migration.backup) == (LATEST_VERSION, None)
        assert len(store.list_conversations()) == 1
    assert _backups(tmp_path) == []


def _half_then_fail(conn: sqlite3.Connection) -> None:
    conn.execute("CREATE TABLE half_done (x INTEGER)")
    conn.execute("ALTER TABLE no_such_table ADD COLUMN y INTEGER")


def _orphan_message(conn: sqlite3.Connection) -> None:
    conn.execute(
        "INSERT INTO messages (id, conversation_id, position, role, content, status, created_at)"
        " VALUES ('m', 'no-such-conversation', 1, 'user', 'x', 'complete', '2026-01-01')"
    )


@pytest.mark.parametrize("broken", [_half_then_fail, _orphan_message])
def test_failed_migration_leaves_the_database_as_it_was(tmp_path: Path, broken) -> None:
    path = tmp_path / "cloudtolocalllm.db"
    _filled_store(path)
    before = _query(path, "SELECT * FROM messages ORDER BY position")
    with pytest.raises(StoreError) as caught:
        migrate(path, (*MIGRATIONS, _v2_add_archived, broken))
    assert str(path) in str(caught.value)
    assert _version(path) == LATEST_VERSION + 1  # the good migration before it stays applied
    assert _query(path, "SELECT name FROM sqlite_master WHERE name = 'half_done'") == []
    assert _query(path, "SELECT * FROM messages ORDER BY position") == before


def test_backup_never_overwrites_an_older_backup(tmp_path: Path) -> None:
    path = tmp_path / "cloudtolocalllm.db"
    _filled_store(path)
    older = tmp_path / f"cloudtolocalllm.db.bak-v{LATEST_VERSION}"
    older.write_bytes(b"an older backup")
    result = migrate(path, LATER)
    assert result.backup == tmp_path / f"cloudtolocalllm.db.bak-v{LATEST_VERSION}-2"
    assert older.read_bytes() == b"an older backup"
    assert _version(result.backup) == LATEST_VERSION


def test_backup_includes_data_still_in_the_wal(tmp_path: Path) -> None:
    path = tmp_path / "cloudtolocalllm.db"
    with Store(path) as store:
        store.create_conversation("only in the WAL so far")
        wal = path.with_name(path.name + "-wal")
        assert wal.stat().st_size > 0
        naive_copy = tmp_path / "copied-file-only.db"
        shutil.copyfile(path, naive_copy)
        result = migrate(path, LATER)
    assert result.backup is not None
    assert _query(naive_copy, "SELECT count(*) FROM conversations") == [(0,)]
    assert _query(result.backup, "SELECT title FROM conversations") == [("only in the WAL so far",)]


def test_database_from_a_newer_app_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "cloudtolocalllm.db"
    _filled_store(path)
    migrate(path, LATER)
    contents = path.read_bytes()
    with pytest.raises(StoreError) as caught:
        Store(path)
    assert str(path) in str(caught.value) and "newer" in str(caught.value)
    assert path.read_bytes() == contents
    assert _backups(tmp_path) == [f"cloudtolocalllm.db.bak-v{LATEST_VERSION}"]


def test_linear_conversations_become_a_single_branch(tmp_path: Path) -> None:
    from backend.core.store.migrations import m_message_tree

    path = tmp_path / "cloudtolocalllm.db"
    migrate(path, MIGRATIONS[:1])  # a file from before branches
    conn = sqlite3.connect(path)
    conn.execute(
        "INSERT INTO conversations (id, title, created_at, updated_at)"
        " VALUES ('c', 'Old', '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
    )
    rows = [(f"m{n}", n, "user" if n % 2 else "assistant", f"text {n}") for n in (1, 2, 3, 4)]
    conn.executemany(
        "INSERT INTO messages (id, conversation_id, position, role, content, status, created_at)"
        " VALUES (?, 'c', ?, ?, ?, 'complete', '2026-01-01 00:00:00')",
        rows,
    )
    conn.execute(
        "INSERT INTO conversations (id, title, created_at, updated_at)"
        " VALUES ('empty', 'Empty', '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
    )
    conn.commit()
    conn.close()
    with Store(path) as store:
        assert store.migration.old_version == 1
        assert MIGRATIONS.index(m_message_tree) < LATEST_VERSION
        conversation = store.get_conversation("c")
        assert [m["id"] for m in conversation["messages"]] == ["m1", "m2", "m3", "m4"]
        assert [m["parent_id"] for m in conversation["messages"]] == [None, "m1", "m2", "m3"]
        assert all("siblings" not in m for m in conversation["messages"])
        assert conversation["active_leaf_id"] == "m4"
        assert (conversation["options"], conversation["think"]) == ({}, None)
        assert store.get_conversation("empty")["active_leaf_id"] is None
        assert store.add_message("c", "user", "after the upgrade")["parent_id"] == "m4"


def database_before(tmp_path: Path, migration) -> tuple[Path, int]:
    """A database at the version before `migration`, holding conversation 'c'; its
    path and version."""
    path = tmp_path / "cloudtolocalllm.db"
    before = MIGRATIONS.index(migration)
    migrate(path, MIGRATIONS[:before])
    conn = sqlite3.connect(path)
    conn.execute(
        "INSERT INTO conversations (id, title, model, created_at, updated_at)"
        " VALUES ('c', 'Old', 'llama3.2', '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
    )
    conn.commit()
    conn.close()
    return path, before


def test_conversations_from_before_endpoints_are_on_ollama(tmp_path: Path) -> None:
    from backend.core.store.migrations import m_conversation_endpoint

    path, before = database_before(tmp_path, m_conversation_endpoint)
    with Store(path) as store:
        assert store.migration.old_version == before
        assert store.get_conversation("c")["endpoint_id"] == "ollama"
        moved = store.update_conversation("c", endpoint_id="ep_1", model="qwen3:8b")
        assert (moved["endpoint_id"], moved["model"]) == ("ep_1", "qwen3:8b")
        assert store.update_conversation("c", endpoint_id="ollama")["endpoint_id"] == "ollama"


def test_conversations_from_before_pinning_are_unpinned(tmp_path: Path) -> None:
    from backend.core.store.migrations import m_pinned_conversations

    path, before = database_before(tmp_path, m_pinned_conversations)
    with Store(path) as store:
        assert store.migration.old_version == before
        assert store.get_conversation("c")["pinned"] is False
        assert store.update_conversation("c", pinned=True)["pinned"] is True
    with Store(path) as store:
        assert store.list_conversations()[0]["pinned"] is True
