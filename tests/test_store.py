"""The conversation store against real SQLite files in temp dirs."""
# Over 300 lines on purpose: one test per store operation and failure, sharing real SQLite fixtures.

from __future__ import annotations

import os
import re
import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, event, text

from backend.core.errors import BadRequest, NotFound
from backend.core.store import Store, StoreError

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
MESSAGE_KEYS = {
    "id",
    "conversation_id",
    "role",
    "content",
    "thinking",
    "status",
    "model",
    "created_at",
    "error",
    "stats",
    "parent_id",
    "endpoint_id",
}


class Clock:
    """A clock that moves one second forward each time it is read."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 26, 3, 51, 47, 123456, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "cloudtolocalllm.db"


@pytest.fixture
def store(db_path: Path):
    with Store(db_path, clock=Clock()) as opened:
        yield opened


def test_create_and_get_round_trip(store: Store, db_path: Path) -> None:
    created = store.create_conversation("  Trip plans ", model="llama3", system_prompt="Be brief.")
    assert db_path.is_file()
    assert created["title"] == "Trip plans"
    assert created["created_at"] == created["updated_at"] == "2026-11-26T03:51:48.123456Z"
    fetched = store.get_conversation(created["id"])
    assert fetched == {**created, "messages": []}
    assert store.get_conversation(created["id"], with_messages=False) == created
    assert store.create_conversation()["title"] == "New conversation"


def test_title_and_field_validation(store: Store) -> None:
    assert len(store.create_conversation("x" * 500)["title"]) == 500
    for bad in ("x" * 501, "   ", 42):
        with pytest.raises(BadRequest):
            store.create_conversation(bad)  # type: ignore[arg-type]
    with pytest.raises(BadRequest):
        store.create_conversation("ok", model=7)  # type: ignore[arg-type]
    assert len(store.list_conversations()) == 1


def test_messages_come_back_in_insertion_order(db_path: Path) -> None:
    frozen = datetime(2026, 1, 1, tzinfo=UTC)  # same timestamp: order must not rely on it
    with Store(db_path, clock=lambda: frozen) as store:
        conv = store.create_conversation("chat")
        added = [
            store.add_message(conv["id"], "system", "You are terse."),
            store.add_message(conv["id"], "user", "Hi"),
            store.add_message(conv["id"], "assistant", "Hello", model="llama3"),
            store.add_message(conv["id"], "user", "Bye"),
        ]
        got = store.get_conversation(conv["id"])
    assert [m["id"] for m in got["messages"]] == [m["id"] for m in added]
    assert got["messages"] == added
    assert got["message_count"] == 4
    first = got["messages"][2]
    assert set(first) == MESSAGE_KEYS
    assert first["model"] == "llama3" and first["error"] is None and first["stats"] is None
    assert ISO_Z.match(first["created_at"])


def test_list_is_newest_updated_first_with_counts(store: Store) -> None:
    a = store.create_conversation("a")
    b = store.create_conversation("b")
    c = store.create_conversation("c")
    assert [x["id"] for x in store.list_conversations()] == [c["id"], b["id"], a["id"]]
    store.add_message(a["id"], "user", "one")
    store.add_message(a["id"], "assistant", "two")
    listed = store.list_conversations()
    assert [x["id"] for x in listed] == [a["id"], c["id"], b["id"]]
    assert [x["message_count"] for x in listed] == [2, 0, 0]
    assert "messages" not in listed[0]
    store.update_conversation(b["id"], title="renamed")  # a rename keeps the place
    assert [x["id"] for x in store.list_conversations()] == [a["id"], c["id"], b["id"]]
    store.update_conversation(b["id"], model="m2")  # a change of settings is activity
    assert store.list_conversations()[0]["title"] == "renamed"
    assert [x["id"] for x in store.list_conversations(limit=1, offset=1)] == [a["id"]]
    with pytest.raises(BadRequest):
        store.list_conversations(limit=-1)


def test_list_reads_counts_in_one_query(store: Store) -> None:
    for n in range(5):
        conv = store.create_conversation(f"c{n}")
        for _ in range(n):
            store.add_message(conv["id"], "user", "hi")
    selects: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            selects.append(statement)

    event.listen(store.engine, "before_cursor_execute", record)
    listed = store.list_conversations()
    event.remove(store.engine, "before_cursor_execute", record)
    assert sorted(x["message_count"] for x in listed) == [0, 1, 2, 3, 4]
    assert len(selects) == 1


def test_search_titles_and_message_text_ignoring_case(store: Store) -> None:
    pasta = store.create_conversation("Recipe for Pasta")
    fox = store.create_conversation("Animals")
    store.add_message(fox["id"], "user", "The QUICK brown fox")
    store.create_conversation("Other")
    assert [x["id"] for x in store.list_conversations("pasta")] == [pasta["id"]]
    assert [x["id"] for x in store.list_conversations("quick BROWN")] == [fox["id"]]
    assert store.list_conversations("giraffe") == []
    assert len(store.list_conversations("")) == 3


@pytest.mark.parametrize(
    ("query", "expected"),
    [("100%", "100% sure"), ("a_b", "a_b"), ("c\\d", "c\\d"), ("%", "100% sure")],
)
def test_search_treats_wildcards_literally(store: Store, query: str, expected: str) -> None:
    for title in ("100% sure", "1000 sure", "a_b", "axb", "c\\d", "cd"):
        store.create_conversation(title)
    assert [x["title"] for x in store.list_conversations(query)] == [expected]


def test_update_conversation(store: Store, db_path: Path) -> None:
    conv = store.create_conversation("old", model="m1")
    updated = store.update_conversation(conv["id"], title="new", system_prompt="Be kind.")
    assert updated["title"] == "new" and updated["model"] == "m1"
    assert updated["system_prompt"] == "Be kind."
    assert updated["updated_at"] > conv["updated_at"]
    assert store.update_conversation(conv["id"], model=None)["model"] is None
    with pytest.raises(BadRequest):
        store.update_conversation(conv["id"], created_at="2020-01-01T00:00:00Z")
    with pytest.raises(BadRequest):
        store.update_conversation(conv["id"], title="y" * 501)
    with pytest.raises(NotFound):
        store.update_conversation("missing", title="x")
    store.close()
    with Store(db_path) as reopened:
        again = reopened.get_conversation(conv["id"], with_messages=False)
    assert (again["title"], again["model"], again["system_prompt"]) == ("new", None, "Be kind.")


def test_delete_cascades_to_messages(store: Store, db_path: Path) -> None:
    doomed = store.create_conversation("doomed")
    kept = store.create_conversation("kept")
    message = store.add_message(doomed["id"], "user", "bye")
    store.add_message(kept["id"], "user", "stay")
    store.delete_conversation(doomed["id"])
    with pytest.raises(NotFound):
        store.get_conversation(doomed["id"])
    with pytest.raises(NotFound):
        store.get_message(message["id"])
    with pytest.raises(NotFound):
        store.delete_conversation(doomed["id"])
    raw = sqlite3.connect(db_path)
    rows = raw.execute("SELECT conversation_id FROM messages").fetchall()
    raw.close()
    assert rows == [(kept["id"],)]


def test_update_message_changes_only_given_fields(store: Store) -> None:
    conv = store.create_conversation("chat")
    reply = store.add_message(conv["id"], "assistant", "", status="streaming", model="m")
    store.update_message(reply["id"], content="Hel")
    assert store.get_message(reply["id"]) == {**reply, "content": "Hel"}
    store.update_message(reply["id"], thinking="hmm", status="complete", stats={"eval_count": 3})
    expected = {**reply, "content": "Hel", "thinking": "hmm", "status": "complete"}
    assert store.get_message(reply["id"]) == {**expected, "stats": {"eval_count": 3}}
    store.update_message(reply["id"], error="boom", status="error")
    final = store.get_message(reply["id"])
    assert (final["content"], final["status"], final["error"]) == ("Hel", "error", "boom")
    assert final["stats"] == {"eval_count": 3}
    with pytest.raises(BadRequest):
        store.update_message(reply["id"], status="done")
    for kwargs in ({"content": "x"}, {}):
        with pytest.raises(NotFound):
            store.update_message("missing", **kwargs)


def test_add_message_validation(store: Store) -> None:
    conv = store.create_conversation("chat")
    with pytest.raises(BadRequest):
        store.add_message(conv["id"], "robot", "hi")
    with pytest.raises(BadRequest):
        store.add_message(conv["id"], "user", "hi", status="finished")
    with pytest.raises(BadRequest):
        store.add_message(conv["id"], "user", None)  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        store.add_message("missing", "user", "hi")
    assert store.get_conversation(conv["id"])["messages"] == []


def test_history_and_not_found(store: Store) -> None:
    conv = store.create_conversation("chat")
    ids = [store.add_message(conv["id"], "user", str(n))["id"] for n in range(4)]
    assert [m["id"] for m in store.history(conv["id"])] == ids
    assert [m["id"] for m in store.history(conv["id"], before_message_id=ids[2])] == ids[:2]
    assert store.history(conv["id"], before_message_id=ids[0]) == []
    other = store.create_conversation("other")
    with pytest.raises(NotFound):
        store.history(other["id"], before_message_id=ids[1])
    for call in (store.history, store.get_conversation, store.delete_conversation):
        with pytest.raises(NotFound):
            call("missing")
    with pytest.raises(NotFound):
        store.get_message("missing")


def test_reopen_marks_cut_off_replies_interrupted(db_path: Path) -> None:
    crashed = Store(db_path)  # never closed before the reopen, like a killed process
    conv = crashed.create_conversation("chat")
    question = crashed.add_message(conv["id"], "user", "Q", status="pending")
    streaming = crashed.add_message(conv["id"], "assistant", "", status="streaming")
    crashed.update_message(streaming["id"], content="The answer so f")
    pending = crashed.add_message(conv["id"], "assistant", "", status="pending")
    done = crashed.add_message(conv["id"], "assistant", "Done.")
    with Store(db_path) as reopened:
        assert reopened.recovered == 2
        got = {m["id"]: m for m in reopened.history(conv["id"])}
    crashed.close()
    assert got[streaming["id"]]["status"] == "interrupted"
    assert got[streaming["id"]]["content"] == "The answer so f"
    assert got[pending["id"]]["status"] == "interrupted"
    assert got[question["id"]]["status"] == "pending"
    assert got[done["id"]]["status"] == "complete"
    with Store(db_path) as third:
        assert third.recovered == 0


def test_pragmas_are_on(store: Store, db_path: Path) -> None:
    with store.engine.connect() as conn:
        pragmas = {
            name: conn.execute(text(f"PRAGMA {name}")).scalar()
            for name in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous")
        }
    assert pragmas == {
        "journal_mode": "wal",
        "foreign_keys": 1,
        "busy_timeout": 5000,
        "synchronous": 1,
    }
    raw = sqlite3.connect(db_path)
    assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    raw.close()


def test_common_queries_use_indexes(store: Store, db_path: Path) -> None:
    conv = store.create_conversation("chat")
    first = store.add_message(conv["id"], "user", "hi")
    store.add_message(conv["id"], "assistant", "", status="streaming")
    seen: list[tuple[str, object]] = []
    event.listen(store.engine, "before_cursor_execute", lambda *a: seen.append((a[2], a[3])))
    store.list_conversations()
    searched_from = len(seen)
    store.list_conversations("hi")
    searched_to = len(seen)
    store.history(conv["id"], before_message_id=first["id"])
    store.close()

    def record(*args) -> None:
        seen.append((args[2], args[3]))

    event.listen(Engine, "before_cursor_execute", record)  # catches start-up recovery
    try:
        Store(db_path).close()
    finally:
        event.remove(Engine, "before_cursor_execute", record)
    raw = sqlite3.connect(db_path)
    plans = [
        (i, " | ".join(row[3] for row in raw.execute("EXPLAIN QUERY PLAN " + sql, params)))
        for i, (sql, params) in enumerate(seen)
        if not sql.startswith("BEGIN")
    ]
    raw.close()
    # Ranked search must sort its (index-found) hits; everything else reads in index order.
    unsorted = [plan for i, plan in plans if not searched_from <= i < searched_to]
    assert unsorted and all("TEMP B-TREE" not in plan for plan in unsorted)
    plans = [plan for _, plan in plans]
    assert all("SCAN messages" not in plan for plan in plans)
    assert any("ix_conversations_updated_at" in plan for plan in plans)
    assert any("ix_messages_unfinished" in plan for plan in plans)


def test_two_threads_write_at_once(store: Store) -> None:
    conv = store.create_conversation("busy")
    start = threading.Barrier(3)
    errors: list[BaseException] = []

    def writer(name: str) -> None:
        try:
            start.wait()
            for n in range(40):
                message = store.add_message(conv["id"], "assistant", "", status="streaming")
                store.update_message(message["id"], content=f"{name}{n}", status="complete")
                store.update_conversation(conv["id"], title=f"{name}{n}")
                store.create_conversation(f"{name}{n}")
        except BaseException as exc:  # collected and asserted on below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(name,)) for name in ("a", "b", "c")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    contents = [m["content"] for m in store.history(conv["id"])]
    assert len(contents) == 120
    for name in ("a", "b", "c"):  # each writer's messages keep its own order
        assert [c for c in contents if c[0] == name] == [f"{name}{n}" for n in range(40)]
    assert len(store.list_conversations(limit=1000)) == 121


def test_corrupt_file_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "cloudtolocalllm.db"
    garbage = b"this is not a database\x00\xff" * 500
    path.write_bytes(garbage)
    with pytest.raises(StoreError) as caught:
        Store(path)
    assert str(path) in str(caught.value)
    assert caught.value.code == "database_unusable"
    assert caught.value.code == "database_unusable"
    assert path.read_bytes() == garbage
    assert sorted(os.listdir(tmp_path)) == ["cloudtolocalllm.db"]


def _parent_is_a_file(tmp_path: Path) -> Path:
    (tmp_path / "blocker").write_text("a file, not a dir")
    return tmp_path / "blocker" / "cloudtolocalllm.db"


def _path_is_a_dir(tmp_path: Path) -> Path:
    (tmp_path / "cloudtolocalllm.db").mkdir()
    return tmp_path / "cloudtolocalllm.db"


def _skip_if_permissions_ignored(tmp_path: Path) -> None:
    # Root (with CAP_DAC_OVERRIDE) may write anywhere: then there is nothing to test.
    probe = tmp_path / "probe"
    probe.mkdir()
    probe.chmod(0o500)
    try:
        (probe / "file").touch()
    except PermissionError:
        return
    pytest.skip("this user ignores file permissions")


def _read_only_dir(tmp_path: Path) -> Path:
    _skip_if_permissions_ignored(tmp_path)
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    return locked / "cloudtolocalllm.db"


def _read_only_file(tmp_path: Path) -> Path:
    _skip_if_permissions_ignored(tmp_path)
    path = tmp_path / "cloudtolocalllm.db"
    Store(path).close()
    path.chmod(0o400)
    return path


@pytest.mark.parametrize(
    "make_path", [_parent_is_a_file, _path_is_a_dir, _read_only_dir, _read_only_file]
)
def test_unusable_location_is_a_store_error(tmp_path: Path, make_path) -> None:
    path = make_path(tmp_path)
    with pytest.raises(StoreError) as caught:
        Store(path)
    assert str(path) in str(caught.value)
    assert caught.value.code == "database_unusable"


# Branches: messages form a tree; the conversation shows one path through it.


def _contents(conversation: dict) -> list[str]:
    return [m["content"] for m in conversation["messages"]]


def test_messages_continue_the_active_path_unless_given_a_parent(store: Store) -> None:
    conv = store.create_conversation("tree")
    cid = conv["id"]
    q = store.add_message(cid, "user", "q")
    a = store.add_message(cid, "assistant", "a")
    assert (q["parent_id"], a["parent_id"]) == (None, q["id"])
    b = store.add_message(cid, "assistant", "b", parent_id=q["id"])  # an alternative to a
    got = store.get_conversation(cid)
    assert got["active_leaf_id"] == b["id"] and _contents(got) == ["q", "b"]
    assert got["messages"][1]["siblings"] == [a["id"], b["id"]]
    assert "siblings" not in got["messages"][0]
    assert got["message_count"] == 3
    assert [m["content"] for m in store.history(cid)] == ["q", "b"]
    assert [m["content"] for m in store.history(cid, before_message_id=a["id"])] == ["q"]
    root = store.add_message(cid, "user", "another start", parent_id=None)
    assert root["parent_id"] is None
    assert store.get_conversation(cid)["messages"][0]["siblings"] == [q["id"], root["id"]]
    other = store.create_conversation("other")
    with pytest.raises(NotFound):
        store.add_message(other["id"], "user", "x", parent_id=q["id"])
    with pytest.raises(NotFound):
        store.add_message(cid, "user", "x", parent_id="missing")


def test_activate_and_delete_branches(store: Store) -> None:
    cid = store.create_conversation("tree")["id"]
    q = store.add_message(cid, "user", "q")
    a = store.add_message(cid, "assistant", "a")
    follow = store.add_message(cid, "user", "follow")
    b = store.add_message(cid, "assistant", "b", parent_id=q["id"])
    shown = store.activate_message(a["id"])
    assert _contents(shown) == ["q", "a", "follow"]  # the newest leaf below a
    assert shown == store.get_conversation(cid)
    before = store.get_conversation(cid, with_messages=False)["updated_at"]
    after = store.delete_message(a["id"])
    assert _contents(after) == ["q", "b"] and after["message_count"] == 2
    assert after["updated_at"] > before
    for gone in (a["id"], follow["id"]):
        with pytest.raises(NotFound):
            store.get_message(gone)
    assert store.get_message(b["id"])["content"] == "b"
    assert _contents(store.delete_message(q["id"])) == []
    for call in (store.activate_message, store.delete_message):
        with pytest.raises(NotFound):
            call("missing")


def test_a_dangling_active_leaf_falls_back_to_the_newest_message(store: Store, db_path) -> None:
    cid = store.create_conversation("imported")["id"]
    store.add_message(cid, "user", "q")
    store.add_message(cid, "assistant", "a")
    raw = sqlite3.connect(db_path)
    raw.execute("UPDATE conversations SET active_leaf_id = 'gone' WHERE id = ?", (cid,))
    raw.commit()
    raw.close()
    assert _contents(store.get_conversation(cid)) == ["q", "a"]
    assert store.add_message(cid, "user", "next")["parent_id"] is not None
    assert _contents(store.get_conversation(cid)) == ["q", "a", "next"]


def test_set_title_if_gives_way_to_a_rename(store: Store) -> None:
    conv = store.create_conversation("hello")
    updated = store.set_title_if(conv["id"], "hello", "  Greetings ")
    assert updated is not None and updated["title"] == "Greetings"
    assert updated["updated_at"] == conv["updated_at"]
    assert store.set_title_if(conv["id"], "hello", "Other") is None
    assert store.get_conversation(conv["id"])["title"] == "Greetings"
    with pytest.raises(BadRequest):
        store.set_title_if(conv["id"], "Greetings", "   ")
    with pytest.raises(NotFound):
        store.set_title_if("missing", "a", "b")


def test_options_and_think_round_trip(store: Store, db_path: Path) -> None:
    conv = store.create_conversation("tuned", options={"temperature": 0.7}, think=True)
    assert (conv["options"], conv["think"]) == ({"temperature": 0.7}, True)
    changed = store.update_conversation(
        conv["id"], options={"num_ctx": 8192, "stop": ["</s>"]}, think=False
    )
    assert (changed["options"], changed["think"]) == ({"num_ctx": 8192, "stop": ["</s>"]}, False)
    store.close()
    with Store(db_path) as reopened:
        again = reopened.get_conversation(conv["id"], with_messages=False)
        assert (again["options"], again["think"]) == ({"num_ctx": 8192, "stop": ["</s>"]}, False)
        cleared = reopened.update_conversation(conv["id"], options={}, think=None)
    assert (cleared["options"], cleared["think"]) == ({}, None)


def test_stored_timestamp_text_prints_as_the_contract_form():
    from datetime import UTC, datetime

    from backend.core.store.models import iso

    moment = datetime(2026, 11, 26, 7, 12, 0, 123456, tzinfo=UTC)
    assert iso("2026-11-26 07:12:00.123456") == iso(moment) == "2026-11-26T07:12:00.123456Z"
    assert iso("2026-11-26 07:12:00") == "2026-11-26T07:12:00.000000Z"  # another writer's


def test_an_opened_conversation_shows_the_times_it_was_given(tmp_path):
    from datetime import UTC, datetime

    ticks = iter(datetime(2026, 1, 1, 0, 0, s, 5, tzinfo=UTC) for s in range(10))
    with Store(tmp_path / "t.db", clock=lambda: next(ticks)) as store:
        conversation = store.create_conversation()
        added = store.add_message(conversation["id"], "user", "hi")
        shown = store.get_conversation(conversation["id"])["messages"][0]
    assert shown["created_at"] == added["created_at"] == "2026-01-01T00:00:01.000005Z"
