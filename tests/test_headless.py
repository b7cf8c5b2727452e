"""The app as users and scripts run it: `--headless` in a subprocess, a real WebSocket client."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import requests

from tests.app_process import REPO, HeadlessApp
from tests.fake_ollama import DEFAULT_TOKENS
from tests.wsclient import WsClient


def cli(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "backend", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=30,
        **kwargs,
    )


def test_ready_line_is_the_only_stdout_and_sigterm_exits_0(headless_app):
    app = headless_app()
    ready = app.ready
    assert set(ready) == {"event", "url", "open_url", "port", "token", "pid"}
    assert ready["event"] == "ready" and ready["pid"] == app.proc.pid
    assert ready["url"] == f"http://127.0.0.1:{ready['port']}/"
    health = requests.get(ready["url"] + "api/health", headers=app.headers(), timeout=5)
    assert health.status_code == 200 and health.json()["status"] == "ok"
    assert app.stop() == 0
    assert app.proc.stdout.read() == ""
    assert ready["token"] not in app.stderr()


def test_a_conversation_streams_and_survives_a_restart(headless_app):
    app = headless_app()
    ws = WsClient(app.ws_url)
    status = ws.recv(skip=())
    assert status["type"] == "status"
    ws.send(
        {
            "type": "chat.send",
            "request_id": "q1",
            "conversation_id": None,
            "content": "Why is the sky blue?",
            "model": "llama3.2",
        }
    )
    frames = ws.reply()
    assert [f["seq"] for f in frames] == list(range(len(frames)))
    assert frames[0]["type"] == "start" and frames[-1]["type"] == "complete"
    text = "".join(f["delta"] for f in frames if f["type"] == "chunk")
    assert text == frames[-1]["content"] == "".join(DEFAULT_TOKENS)
    assert frames[-1]["stats"]["eval_count"] == len(DEFAULT_TOKENS)
    cid = frames[0]["conversation_id"]
    ws.close()
    assert app.stop() == 0

    again = headless_app()
    listed = requests.get(again.url + "api/conversations", headers=again.headers(), timeout=5)
    assert [c["id"] for c in listed.json()["conversations"]] == [cid]
    conversation = requests.get(
        again.url + f"api/conversations/{cid}", headers=again.headers(), timeout=5
    ).json()
    assert [(m["role"], m["status"]) for m in conversation["messages"]] == [
        ("user", "complete"),
        ("assistant", "complete"),
    ]
    assert conversation["messages"][1]["content"] == text
    assert conversation["messages"][1]["stats"]["eval_count"] == len(DEFAULT_TOKENS)


def test_sigterm_mid_reply_saves_the_text_so_far(headless_app, fake_ollama):
    fake_ollama.token_delay = 0.05
    app = headless_app()
    ws = WsClient(app.ws_url)
    ws.send(
        {
            "type": "chat.send",
            "request_id": "q",
            "conversation_id": None,
            "content": "long one",
            "model": "llama3.2",
        }
    )
    frames = ws.recv_until(lambda f: f["type"] == "chunk" and f["seq"] >= 3)
    start = next(f for f in frames if f["type"] == "start")
    assert app.stop() == 0
    again = headless_app()
    conversation = requests.get(
        again.url + f"api/conversations/{start['conversation_id']}",
        headers=again.headers(),
        timeout=5,
    ).json()
    reply = conversation["messages"][1]
    assert reply["status"] == "interrupted"
    assert reply["content"] and "".join(DEFAULT_TOKENS).startswith(reply["content"])


def test_ollama_host_env_is_read_like_ollama(fake_ollama, data_dir):
    env = {"OLLAMA_HOST": f"127.0.0.1:{fake_ollama.port}"}
    app = HeadlessApp(["--data-dir", str(data_dir)], data_dir, env).start()
    try:
        status = requests.get(app.url + "api/status", headers=app.headers(), timeout=5).json()
        assert status["endpoint"] == fake_ollama.url
    finally:
        assert app.stop() == 0


def test_version_and_bad_arguments():
    version = cli("--version")
    assert version.returncode == 0 and version.stdout.strip().startswith("cloudtolocalllm ")
    bad = cli("--headless", "--port", "99999")
    assert bad.returncode == 2
    assert len(bad.stderr.strip().splitlines()) == 1 and "port" in bad.stderr
    unknown = cli("--frobnicate")
    assert unknown.returncode == 2 and len(unknown.stderr.strip().splitlines()) == 1
    both = cli("--web", "--headless")
    assert both.returncode == 2


def test_unusable_data_dir_is_one_line_naming_it(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    result = cli("--headless", "--data-dir", str(blocker / "data"))
    assert result.returncode != 0
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(blocker / "data") in lines[0]
    assert "Traceback" not in result.stderr


def test_corrupt_database_is_reported_and_left_alone(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    db = data / "cloudtolocalllm.db"
    db.write_bytes(b"this is not a database" * 100)
    result = cli("--headless", "--data-dir", str(data), env={**os.environ})
    assert result.returncode != 0
    assert str(db) in result.stderr and "Traceback" not in result.stderr
    assert db.read_bytes() == b"this is not a database" * 100


def test_the_ready_line_freezes_what_start_up_made(runtime, capsys):
    import gc

    from backend.launcher.cli import announce_ready

    gc.unfreeze()
    try:
        announce_ready(runtime)
        assert json.loads(capsys.readouterr().out)["event"] == "ready"
        assert gc.get_freeze_count() > 10_000  # modules, mappers, routes
    finally:
        gc.unfreeze()


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or os.confstr("CS_GNU_LIBC_VERSION") is None,
    reason="glibc only",
)
def test_malloc_arenas_are_capped_on_glibc():
    from backend.launcher.memory import limit_malloc_arenas

    assert limit_malloc_arenas() is True
