"""The reliability suite's helpers: the app as a real process, its sockets, and real faults.

Everything here is real: `cloudtolocalllm --headless` in a subprocess, the fake Ollama on a
loopback socket, SIGKILL, tmpfs and read-only mounts (always undone), Debian's Chromium.
"""

from __future__ import annotations

import sqlite3
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.app_process import HeadlessApp
from tests.fake_ollama import FakeOllama
from tests.wsclient import WsClient

MODEL = "llama3.2"
FINAL_TYPES = ("complete", "cancelled", "error")


def chat_send(
    ws: WsClient,
    content: str = "hello",
    conversation_id: str | None = None,
    *,
    model: str = MODEL,
    request_id: str | None = None,
) -> str:
    """Send `chat.send`; returns its request_id."""
    request_id = request_id or uuid.uuid4().hex
    ws.send(
        {
            "type": "chat.send",
            "request_id": request_id,
            "conversation_id": conversation_id,
            "content": content,
            "model": model,
        }
    )
    return request_id


def token_text(count: int) -> str:
    """The reply the fake streams for `token_count = count`."""
    return "".join(f"tok{i} " for i in range(count))


def is_final(frame: dict[str, Any]) -> bool:
    return frame["type"] in FINAL_TYPES and "message_id" in frame


def collect_replies(
    ws: WsClient, count: int, timeout: float = 20.0, *, already: list[dict] = ()
) -> dict[str, list[dict]]:
    """Frames per message_id until `count` replies have their final frame; `already`: frames
    of these replies read before."""
    replies: dict[str, list[dict]] = {}
    finished = 0
    deadline = time.monotonic() + timeout
    pending = list(already)
    while finished < count:
        frame = pending.pop(0) if pending else ws.recv(max(0.01, deadline - time.monotonic()))
        if "message_id" not in frame or "seq" not in frame and not is_final(frame):
            continue
        replies.setdefault(frame["message_id"], []).append(frame)
        finished += is_final(frame)
    return replies


def assert_reply_well_formed(frames: list[dict]) -> None:
    """The contract: gap-free seq from `start`, one final frame, deltas that add up."""
    assert frames[0]["type"] == "start"
    assert [f["seq"] for f in frames] == list(range(len(frames)))
    assert [f["type"] for f in frames[1:-1]] == ["chunk"] * (len(frames) - 2)
    assert frames[-1]["type"] in FINAL_TYPES
    deltas = "".join(f["delta"] for f in frames[1:-1])
    assert frames[-1].get("content", deltas) == deltas


def wait_until(predicate: Callable[[], Any], timeout: float = 10.0, what: str = "") -> Any:
    """Poll `predicate` until it returns something truthy (short sleeps, bounded)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up waiting {timeout} s for {what or predicate}")
        time.sleep(0.02)


def peek_db(path: Path, sql: str, params: tuple = ()) -> list[tuple]:
    """Read the live database from outside the app, as another process would."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


class Mounts:
    """tmpfs and read-only bind mounts made for one test, undone after it."""

    def __init__(self) -> None:
        self._mounted: list[Path] = []

    def _mount(self, *args: str) -> None:
        result = subprocess.run(["mount", *args], capture_output=True, text=True)
        if result.returncode != 0:
            pytest.skip(f"cannot mount here (needs root/CAP_SYS_ADMIN): {result.stderr.strip()}")

    def tmpfs(self, where: Path, size: str) -> Path:
        where.mkdir(parents=True, exist_ok=True)
        self._mount("-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(where))
        self._mounted.append(where)
        return where

    def resize(self, where: Path, size: str) -> None:
        self._mount("-o", f"remount,size={size}", str(where))

    def read_only(self, path: Path) -> Path:
        """Make one file (or directory) read-only for everyone, root included."""
        self._mount("--bind", str(path), str(path))
        self._mounted.append(path)
        self._mount("-o", "remount,ro,bind", str(path))
        return path

    def undo(self) -> None:
        for where in reversed(self._mounted):
            if subprocess.run(["umount", str(where)], capture_output=True).returncode != 0:
                subprocess.run(["umount", "-l", str(where)], capture_output=True)
        self._mounted.clear()


COLD_LOAD_S = 90.0  # Ollama loading a big model from a slow disk: no token for 90 s


class ColdLoad:
    """One app whose reply waits COLD_LOAD_S for its first token, started at once."""

    def __init__(self, data_dir: Path) -> None:
        self.fake = FakeOllama().start()
        self.fake.first_token_delay, self.fake.token_count = COLD_LOAD_S, 5
        self.app = HeadlessApp(
            ["--ollama-url", self.fake.url, "--data-dir", str(data_dir)], data_dir
        )
        self.app.start()
        self.ws = self.app.ws()
        self.sent_at = time.monotonic()
        chat_send(self.ws, "wake the model up")

    def close(self) -> None:
        self.ws.close()
        self.app.stop()
        self.fake.stop()
