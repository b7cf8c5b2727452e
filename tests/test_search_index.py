"""The message index holds exactly the finished messages: a streaming reply is indexed once,
when it gets its final status, and every path (triggers, migration, repair) keeps that."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from backend.core.store import LATEST_VERSION, Store
from backend.core.store import migrations as migrations_module
from backend.core.store import search as search_module
from backend.core.store.migrations import (
    MIGRATIONS,
    SEARCH_TRIGGERS,
    m_index_finished_messages,
    migrate,
)

MESSAGE_TRIGGERS = ("search_messages_ai", "search_messages_ad", "search_messages_au")
FINISHED = ("complete", "cancelled", "error", "interrupted")


def assert_index_consistent(path: Path) -> None:
    """The index holds exactly the finished rows with their current text.

    FTS5's integrity-check with rank 1 compares the index with its content table, so it runs
    on an in-memory copy from which the unfinished rows are removed (without triggers).
    Any stray entry, missing row, stale text or a 'delete' of never-indexed values (which
    skews the index's totals) fails it.
    """
    # Autocommit: the check is an INSERT, and an open transaction would stall the backup.
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.execute(
            "INSERT INTO search_messages (search_messages, rank) VALUES ('integrity-check', 0)"
        )
        with closing(sqlite3.connect(":memory:", isolation_level=None)) as copy:
            conn.backup(copy)
            for name in MESSAGE_TRIGGERS:
                copy.execute(f"DROP TRIGGER {name}")
            copy.execute("DELETE FROM messages WHERE status IN ('pending', 'streaming')")
            copy.execute(
                "INSERT INTO search_messages (search_messages, rank) VALUES ('integrity-check', 1)"
            )


def found_ids(store: Store, q: str) -> list[str | None]:
    return [result.get("message_id") for result in store.list_conversations(q)]


def indexed_ids(path: Path, q: str) -> list[str]:
    """The messages the index itself returns for `q`, whatever the search on top does."""
    with closing(sqlite3.connect(path)) as conn:
        rows = conn.execute(
            "SELECT m.id FROM search_messages JOIN messages AS m ON m.rowid = search_messages.rowid"
            " WHERE search_messages MATCH ? ORDER BY m.position",
            (q,),
        )
        return [row[0] for row in rows]


def index_pages(path: Path) -> list[tuple]:
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute("SELECT id, block FROM search_messages_data ORDER BY id").fetchall()


def test_a_streaming_reply_is_found_once_it_finishes(store: Store) -> None:
    conversation = store.create_conversation("Sea")
    store.add_message(conversation["id"], "user", "Tell me something")
    reply = store.add_message(conversation["id"], "assistant", "", status="streaming")
    for text in ("Walruses", "Walruses live", "Walruses live in the Arctic"):
        store.update_message(reply["id"], content=text)
        assert store.list_conversations("walrus") == []
        assert_index_consistent(store.path)
    store.update_message(reply["id"], status="complete")
    assert found_ids(store, "walrus") == [reply["id"]]
    assert found_ids(store, "arctic") == [reply["id"]]
    assert_index_consistent(store.path)


def test_streaming_rewrites_leave_the_index_untouched(store: Store) -> None:
    conversation = store.create_conversation("Sea")
    store.add_message(conversation["id"], "user", "Tell me about walruses")
    reply = store.add_message(conversation["id"], "assistant", "", status="streaming")
    before = index_pages(store.path)
    text = ""
    for word in ("Walruses", "are", "large", "flippered", "marine", "mammals"):
        text += word + " "
        store.update_message(reply["id"], content=text)
    assert index_pages(store.path) == before
    store.update_message(reply["id"], content=text.strip(), status="complete")
    assert index_pages(store.path) != before
    assert found_ids(store, "flippered") == [reply["id"]]


@pytest.mark.parametrize("status", FINISHED)
def test_a_message_stored_finished_is_found(store: Store, status: str) -> None:
    conversation = store.create_conversation("Sea")
    message = store.add_message(conversation["id"], "assistant", "Narwhals", status=status)
    assert found_ids(store, "narwhal") == [message["id"]]
    assert_index_consistent(store.path)


@pytest.mark.parametrize("status", ["pending", "streaming"])
def test_a_message_stored_unfinished_is_not_found(store: Store, status: str) -> None:
    conversation = store.create_conversation("Sea")
    store.add_message(conversation["id"], "assistant", "Narwhals", status=status)
    assert store.list_conversations("narwhal") == []
    assert_index_consistent(store.path)


def test_every_step_of_a_reply_keeps_the_index_consistent(store: Store) -> None:
    conversation = store.create_conversation("Sea")
    question = store.add_message(conversation["id"], "user", "Which whale has a tusk?")
    reply = store.add_message(conversation["id"], "assistant", "", status="pending")
    steps = [
        ({"status": "streaming"}, "whale", [question["id"]]),
        ({"content": "The narwhal"}, "narwhal", []),
        ({"content": "The narwhal has a tusk"}, "tusk", [question["id"]]),
        ({"content": "The narwhal has a tusk", "status": "complete"}, "narwhal", [reply["id"]]),
        ({"content": "The narwhal, a toothed whale"}, "tusk", [question["id"]]),
        ({"status": "error", "error": "cut"}, "toothed", [reply["id"]]),
        ({"status": "streaming"}, "toothed", []),
        ({"content": "Beluga", "status": "cancelled"}, "beluga", [reply["id"]]),
    ]
    for values, q, expected in steps:
        store.update_message(reply["id"], **values)
        assert found_ids(store, q) == expected, values
        assert_index_consistent(store.path)
    store.delete_message(reply["id"])
    assert store.list_conversations("beluga") == []
    assert_index_consistent(store.path)
    streaming = store.add_message(conversation["id"], "assistant", "Orca", status="streaming")
    store.delete_message(streaming["id"])  # deleting a row never indexed must not touch it
    assert_index_consistent(store.path)
    store.delete_conversation(conversation["id"])
    assert store.list_conversations("whale") == []
    assert_index_consistent(store.path)


def test_a_symbol_query_skips_a_streaming_reply_too(store: Store) -> None:
    conversation = store.create_conversation("Birds")
    reply = store.add_message(conversation["id"], "assistant", "", status="streaming")
    store.update_message(reply["id"], content="🐧 incoming")
    assert store.list_conversations("🐧") == []
    store.update_message(reply["id"], status="complete")
    assert found_ids(store, "🐧") == [reply["id"]]


def test_a_reply_cut_off_by_a_crash_is_searchable_after_restart(tmp_path: Path) -> None:
    path = tmp_path / "cloudtolocalllm.db"
    with Store(path) as crashed:
        conversation = crashed.create_conversation("Sea")
        reply = crashed.add_message(conversation["id"], "assistant", "", status="streaming")
        crashed.update_message(reply["id"], content="Dugongs graze on seagr")
        assert crashed.list_conversations("dugong") == []
    with Store(path) as store:
        assert store.recovered == 1
        assert store.get_message(reply["id"])["status"] == "interrupted"
        assert found_ids(store, "dugong") == [reply["id"]]
    assert_index_consistent(path)


def _previous_version_file(path: Path) -> int:
    """A file written by the app before this change, with a reply still streaming in it;
    returns its schema version."""
    before = MIGRATIONS.index(m_index_finished_messages)
    migrate(path, MIGRATIONS[:before])
    with closing(sqlite3.connect(path)) as conn:
        conn.execute(
            "INSERT INTO conversations (id, title, created_at, updated_at)"
            " VALUES ('c', 'Sea', '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
        )
        insert = (
            "INSERT INTO messages (id, conversation_id, parent_id, position, role, content,"
            " status, created_at) VALUES (?, 'c', ?, ?, ?, ?, ?, '2026-01-01 00:00:00')"
        )
        conn.execute(insert, ("m1", None, 1, "user", "Any manatees?", "complete"))
        conn.execute(insert, ("m2", "m1", 2, "assistant", "", "streaming"))
        for text in ("Manatees", "Manatees are slow"):  # the old triggers index every rewrite
            conn.execute("UPDATE messages SET content = ? WHERE id = 'm2'", (text,))
        conn.commit()
    return before


def _trigger_sql(path: Path) -> dict[str, str]:
    with closing(sqlite3.connect(path)) as conn:
        rows = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
        return dict(rows.fetchall())


def test_a_file_from_the_previous_version_is_reindexed(tmp_path: Path) -> None:
    path = tmp_path / "cloudtolocalllm.db"
    before = _previous_version_file(path)
    assert "status" not in _trigger_sql(path)["search_messages_ai"]
    result = migrate(path)
    assert (result.old_version, result.new_version) == (before, LATEST_VERSION)
    assert _trigger_sql(path) == SEARCH_TRIGGERS
    assert_index_consistent(path)  # the streaming reply is out of the index
    assert indexed_ids(path, "manatees") == ["m1"]
    assert indexed_ids(path, "slow") == []
    with Store(path) as store:  # the start-up recovery finishes it: interrupted
        assert store.recovered == 1 and store.get_message("m2")["status"] == "interrupted"
        assert found_ids(store, "slow") == ["m2"]
    assert indexed_ids(path, "manatees") == ["m1", "m2"]
    assert_index_consistent(path)


def test_migrating_without_fts5_drops_the_old_triggers(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "cloudtolocalllm.db"
    _previous_version_file(path)
    monkeypatch.setattr(migrations_module, "fts5_available", lambda conn: False)
    migrate(path)
    assert not set(_trigger_sql(path)) & set(MESSAGE_TRIGGERS)
    monkeypatch.undo()  # FTS5 is back: the app's open reinstalls the triggers and rebuilds
    with Store(path) as store:
        assert search_module.prepare(store.engine, store.path) is True
        assert found_ids(store, "slow") == ["m2"]  # interrupted by the start-up recovery
    assert _trigger_sql(path) == SEARCH_TRIGGERS
    assert_index_consistent(path)


def test_repair_indexes_only_finished_messages(store: Store) -> None:
    conversation = store.create_conversation("Sea")
    question = store.add_message(conversation["id"], "user", "Do seals sing?")
    reply = store.add_message(conversation["id"], "assistant", "", status="streaming")
    store.update_message(reply["id"], content="Seals bark and sing")
    with closing(sqlite3.connect(store.path)) as conn:
        conn.execute("DROP TRIGGER search_messages_au")
    assert search_module.prepare(store.engine, store.path) is True
    assert _trigger_sql(store.path) == SEARCH_TRIGGERS
    assert_index_consistent(store.path)
    assert found_ids(store, "seal") == [question["id"]]
    store.update_message(reply["id"], content="Seals bark, sing and clap")
    store.update_message(reply["id"], status="complete")
    assert found_ids(store, "clap") == [reply["id"]]
    assert_index_consistent(store.path)
