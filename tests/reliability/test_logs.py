"""Item 7: a rotating log in `<data-dir>/logs/`, one line per state change and error, and no
message contents (nor the token) in it or on stderr."""

from __future__ import annotations

import logging
import re
import threading

import pytest
import requests

from backend.launcher.logs import LOG_FILENAME, setup_logging
from tests.reliability.support import chat_send, collect_replies, wait_until

SECRETS = {
    "user": "SECRET-QUESTION-7c1e",
    "reply": "SECRET-ANSWER-9b2d",
    "system": "SECRET-SYSTEM-41aa",
    "title": "SECRET-TITLE-0f3c",
}
LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (INFO|WARNING|ERROR) [\w.]+: .+$")


def lines_about(log: str, needle: str) -> list[str]:
    return [line for line in log.splitlines() if needle in line]


def test_one_line_per_state_change_and_error_and_no_contents(launch, fake_ollama, data_dir):
    fake_ollama.tokens = ["Here is ", SECRETS["reply"], " for you."]
    app = launch("--verbose")
    ws = app.ws()
    fields = {"title": SECRETS["title"], "system_prompt": SECRETS["system"]}
    created = app.request("POST", "api/conversations", json=fields).json()

    chat_send(ws, SECRETS["user"], created["id"])
    (completed,) = collect_replies(ws, 1).values()
    fake_ollama.error_after = 1
    chat_send(ws, SECRETS["user"] + " again", created["id"])
    (failed,) = collect_replies(ws, 1).values()
    fake_ollama.error_after, fake_ollama.token_delay = None, 0.05
    chat_send(ws, "stop me", created["id"])
    started = ws.recv_until(lambda f: f["type"] == "chunk")
    ws.send({"type": "chat.cancel", "message_id": started[-1]["message_id"]})
    (cancelled,) = collect_replies(ws, 1, already=started).values()
    fake_ollama.stop()
    app.request("POST", "api/connection/reconnect")
    wait_until(lambda: app.get("api/status")["state"] == "reconnecting", what="the loss")
    fake_ollama.start()
    app.request("POST", "api/connection/reconnect")
    wait_until(lambda: app.get("api/status")["state"] == "connected", what="the return")
    requests.get(app.url + "api/health?token=wrong", timeout=5)
    assert app.stop() == 0

    log_file = data_dir / "logs" / LOG_FILENAME
    log, stderr = log_file.read_text(), app.stderr()
    for where, text in (("log file", log), ("stderr", stderr)):
        for name, secret in SECRETS.items():
            assert secret not in text, f"the {name} text is in the {where}"
        assert app.token not in text and app.token[:12] not in text, f"token in the {where}"
    assert all(LINE.match(line) for line in log.splitlines()), log

    def one(needle: str) -> str:
        found = lines_about(log, needle)
        assert len(found) == 1, (needle, found)
        return found[0]

    assert "serving on" in one("serving on")
    assert "stopped" in one(" stopped")
    assert "ollama_stream_error" in one(failed[0]["message_id"])
    assert "cancelled" in one(cancelled[0]["message_id"])
    assert "complete" in one(completed[0]["message_id"])
    one("-> reconnecting")
    one("reconnecting -> connected")


@pytest.fixture
def restore_logging():
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    hook = threading.excepthook
    yield
    threading.excepthook = hook
    for handler in list(root.handlers):
        handler.close()
        root.removeHandler(handler)
    for handler in saved[0]:
        root.addHandler(handler)
    root.setLevel(saved[1])


def test_the_log_file_rotates_and_keeps_a_bounded_history(tmp_path, restore_logging):
    setup_logging(tmp_path, max_bytes=2000, backups=2)
    log = logging.getLogger("cloudtolocalllm.test")
    for n in range(200):
        log.info("state change number %04d of a long-running app", n)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [LOG_FILENAME, f"{LOG_FILENAME}.1", f"{LOG_FILENAME}.2"]
    assert all((tmp_path / name).stat().st_size <= 2000 for name in names)
    assert "number 0199" in (tmp_path / LOG_FILENAME).read_text()


def test_a_failed_statement_is_logged_without_its_values(tmp_path, restore_logging):
    import sqlalchemy

    setup_logging(tmp_path)
    secret = "-".join(("SECRET", "X"))  # not in any source line a traceback quotes
    engine = sqlalchemy.create_engine("sqlite://")
    try:
        with engine.connect() as conn:
            conn.execute(sqlalchemy.text("INSERT INTO nowhere VALUES (:v)"), {"v": secret})
    except sqlalchemy.exc.OperationalError:
        logging.getLogger("cloudtolocalllm.test").exception("writing failed")
    text = (tmp_path / LOG_FILENAME).read_text()
    assert "writing failed" in text and "no such table: nowhere" in text
    assert "SECRET-X" not in text and "[parameters: hidden]" in text
