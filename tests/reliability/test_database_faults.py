"""Item 4: the database under real faults: a lock held by another process, an old schema,
a corrupt or read-only file, a full disk."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

from backend.core.store.migrations import LATEST_VERSION, m001_initial
from tests.app_process import REPO
from tests.fake_ollama import DEFAULT_TOKENS
from tests.reliability.support import chat_send, collect_replies, peek_db, token_text

DB = "cloudtolocalllm.db"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assert_refused_at_start(data: Path, db: Path) -> None:
    """Start fails with one clear line naming the file, which is left exactly as it was."""
    before = digest(db)
    proc = subprocess.Popen(
        [sys.executable, "-m", "backend", "--headless", "--data-dir", str(data)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        ready = proc.stdout.readline()  # the ready line, or "" once it has exited
        assert not ready, f"the app started on {db} instead of refusing it"
        stderr = proc.stderr.read()
    finally:
        proc.kill()
        proc.wait(10)
    assert proc.returncode not in (0, -9)
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and str(db) in lines[0], stderr
    assert "Traceback" not in stderr
    assert digest(db) == before
    assert not [p.name for p in data.iterdir() if p.name.startswith(f"{DB}.bak")]


def test_the_live_database_is_wal_and_waits_out_another_process_lock(launch, fake_ollama, data_dir):
    fake_ollama.token_count, fake_ollama.token_delay = 60, 0.01
    app = launch()
    db = data_dir / DB
    assert peek_db(db, "PRAGMA journal_mode") == [("wal",)]
    ws = app.ws()
    # Another process (this one) takes the write lock and sits on it for a second, while
    # the app must store the user's message and then the reply as it streams.
    other = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    chat_send(ws, "written while the file is locked")
    release = threading.Timer(1.0, other.execute, args=("COMMIT",))
    release.start()
    (frames,) = collect_replies(ws, 1).values()
    release.join()
    other.close()
    assert frames[-1]["type"] == "complete", frames[-1]
    user, reply = app.conversation(frames[0]["conversation_id"])["messages"]
    assert user["content"] == "written while the file is locked"
    assert (reply["status"], reply["content"]) == ("complete", token_text(60))


def _first_schema_with_data(db: Path) -> None:
    """A file as the first release wrote it: schema version 1, a finished exchange and a
    reply that was streaming when that release was killed."""
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("BEGIN")
    m001_initial(conn)
    conn.execute("PRAGMA user_version = 1")
    conn.execute(
        "INSERT INTO conversations VALUES ('c1', 'Lighthouses', 'llama3.2', 'Be brief.',"
        " '2025-01-02 03:04:05.000000', '2025-01-02 03:04:09.000000')"
    )
    rows = [
        ("m1", 1, "user", "Where is the lighthouse?", "complete", None),
        ("m2", 2, "assistant", "On the cape.", "complete", '{"eval_count": 4}'),
        ("m3", 3, "user", "How tall is it?", "complete", None),
        ("m4", 4, "assistant", "About forty me", "streaming", None),
    ]
    for mid, position, role, content, status, stats in rows:
        conn.execute(
            "INSERT INTO messages (id, conversation_id, position, role, content, status,"
            " model, stats, created_at) VALUES (?, 'c1', ?, ?, ?, ?, 'llama3.2', ?,"
            " '2025-01-02 03:04:05.000000')",
            (mid, position, role, content, status, stats),
        )
    conn.execute("COMMIT")
    conn.close()


def test_a_first_schema_file_with_data_is_backed_up_and_migrated_at_start(launch, data_dir):
    data_dir.mkdir(parents=True, exist_ok=True)
    db = data_dir / DB
    _first_schema_with_data(db)
    original = peek_db(db, "SELECT id, content, status FROM messages ORDER BY position")
    app = launch()
    conversation = app.conversation("c1")
    assert conversation["title"] == "Lighthouses"
    assert conversation["system_prompt"] == "Be brief."
    assert [(m["id"], m["content"]) for m in conversation["messages"]] == [
        (mid, content) for mid, content, _ in original
    ]
    assert [m["status"] for m in conversation["messages"]] == [
        "complete",
        "complete",
        "complete",
        "interrupted",  # cut off under the old release, recovered under the new one
    ]
    assert conversation["messages"][1]["stats"] == {"eval_count": 4}
    found = app.get("api/conversations?q=lighthouse")["conversations"]
    assert [c["id"] for c in found] == ["c1"]
    backup = data_dir / f"{DB}.bak-v1"
    assert peek_db(backup, "PRAGMA user_version") == [(1,)]
    assert peek_db(backup, "SELECT id, content, status FROM messages ORDER BY position") == original
    assert peek_db(db, "PRAGMA user_version") == [(LATEST_VERSION,)]


def test_a_database_with_damaged_pages_is_refused_at_start_and_kept(launch, data_dir):
    app = launch()
    ws = app.ws()
    for n in range(30):  # enough rows to span many pages
        chat_send(ws, f"message {n} " + "words " * 200)
        collect_replies(ws, 1)
    assert app.stop() == 0
    db = data_dir / DB
    raw = bytearray(db.read_bytes())
    page = 4096
    assert len(raw) > 20 * page
    for start in range(3 * page, len(raw) - page, 3 * page):  # every third page, header kept
        raw[start + 8 : start + page] = b"\xa5" * (page - 8)
    db.write_bytes(bytes(raw))
    assert peek_db(db, "PRAGMA quick_check") != [("ok",)]  # damaged indeed
    assert_refused_at_start(data_dir, db)


def test_a_truncated_database_is_refused_at_start_and_kept(launch, data_dir):
    app = launch()
    ws = app.ws()
    for n in range(10):
        chat_send(ws, f"message {n} " + "words " * 200)
        collect_replies(ws, 1)
    assert app.stop() == 0
    db = data_dir / DB
    db.write_bytes(db.read_bytes()[: db.stat().st_size // 2])  # a copy cut short
    assert_refused_at_start(data_dir, db)


def test_a_read_only_database_is_refused_at_start_and_kept(mounts, launch, data_dir):
    app = launch()
    ws = app.ws()
    chat_send(ws, "keep me")
    collect_replies(ws, 1)
    assert app.stop() == 0
    db = mounts.read_only(data_dir / DB)  # read-only for root too: a bind mount, remounted ro
    assert_refused_at_start(data_dir, db)


def test_a_full_disk_mid_reply_leaves_earlier_data_intact(mounts, launch, fake_ollama, tmp_path):
    data = mounts.tmpfs(tmp_path / "small-disk", "2m")
    app = launch(data=data)
    ws = app.ws()
    chat_send(ws, "an earlier question")
    (earlier,) = collect_replies(ws, 1).values()
    conversation_id = earlier[0]["conversation_id"]
    fake_ollama.tokens = ["lorem ipsum dolor " * 50] * 3000  # 2.7 MB: more than the disk
    chat_send(ws, "fill the disk", conversation_id)
    (failed,) = collect_replies(ws, 1, timeout=60).values()
    final = failed[-1]
    assert final["type"] == "error"
    shown = "".join(f.get("delta", "") for f in failed)

    while_full = app.conversation(conversation_id)["messages"]
    assert [m["content"] for m in while_full[:2]] == [
        "an earlier question",
        "".join(DEFAULT_TOKENS),
    ]
    ws.send({"type": "ping"})
    assert ws.recv() == {"type": "pong"}  # still serving
    assert app.stop() == 0
    assert "lorem" not in app.stderr() + app.logs()  # the failure is told, not the text

    mounts.resize(data, "64m")  # the user frees some space and starts the app again
    again = launch(data=data)
    assert peek_db(data / DB, "PRAGMA integrity_check") == [("ok",)]
    messages = again.conversation(conversation_id)["messages"]
    assert [(m["content"], m["status"]) for m in messages[:2]] == [
        ("an earlier question", "complete"),
        ("".join(DEFAULT_TOKENS), "complete"),
    ]
    assert messages[2]["content"] == "fill the disk"
    assert messages[3]["status"] in ("error", "interrupted")
    assert ("lorem ipsum dolor " * 50 * 3000).startswith(messages[3]["content"])
    fake_ollama.tokens = list(DEFAULT_TOKENS)
    ws = again.ws()
    chat_send(ws, "and it works again", conversation_id)
    assert collect_replies(ws, 1).popitem()[1][-1]["type"] == "complete"
    # The error frame carried the text the user saw, so the UI kept showing it, and said why.
    assert final["content"] == shown, (final["code"], final["message"], len(final["content"]))
    assert final["code"] != "internal_error", final
