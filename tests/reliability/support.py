"""The reliability suite's helpers: the app as a real process, its sockets, and real faults.

Everything here is real: `cloudtolocalllm --headless` in a subprocess, the fake Ollama on a
loopback socket, SIGKILL, tmpfs and read-only mounts (always undone), Debian's Chromium.
"""

from __future__ import annotations

import json
import os
import select
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
import simple_websocket

from tests.conftest import REPO
from tests.fake_ollama import FakeOllama
from tests.wsclient import WsClient

MODEL = "llama3.2"
FINAL_TYPES = ("complete", "cancelled", "error")


class _Client(simple_websocket.Client):
    def handshake(self) -> None:
        super().handshake()
        # simple-websocket 1.1 stops reading at the handshake's answer: a frame that came in
        # the same packet (the server's first `status`) would wait in wsproto until more
        # data arrives. Hand it over now, before the reader thread starts.
        self.connected = self._handle_events() and self.connected


class Ws(WsClient):
    """tests.wsclient's client on a handshake that loses no early frame."""

    def __init__(self, url: str, **kwargs: Any) -> None:
        self.ws = _Client.connect(url, **kwargs)

    def send(self, frame: dict[str, Any] | str | bytes) -> None:
        """A dict as JSON; text as a text frame, bytes as a binary frame, as given."""
        self.ws.send(frame if isinstance(frame, str | bytes) else json.dumps(frame))


class App:
    """`cloudtolocalllm --headless` in a subprocess, stderr to a file (a full pipe would
    block the app), with its ready line parsed."""

    def __init__(self, args: list[str], data_dir: Path, env: dict[str, str] | None = None):
        self.args, self.data_dir = args, data_dir
        self.env = {**os.environ, **(env or {})}
        self.stderr_path = data_dir.parent / f"stderr-{uuid.uuid4().hex[:8]}.txt"
        self.proc: subprocess.Popen | None = None
        self.ready: dict[str, Any] = {}

    def start(self, timeout: float = 20.0) -> App:
        with open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "backend", "--headless", *self.args],
                cwd=REPO,
                env=self.env,
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
            )
        readable, _, _ = select.select([self.proc.stdout], [], [], timeout)
        line = self.proc.stdout.readline() if readable else ""
        if not line:
            self.kill9()
            raise RuntimeError(f"app not ready (rc={self.proc.returncode}): {self.stderr()}")
        self.ready = json.loads(line)
        return self

    @property
    def url(self) -> str:
        return self.ready["url"]

    @property
    def token(self) -> str:
        return self.ready["token"]

    @property
    def port(self) -> int:
        return self.ready["port"]

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + f"ws?token={self.token}"

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {**self.headers(), **kwargs.pop("headers", {})}
        return requests.request(
            method, self.url + path.lstrip("/"), headers=headers, timeout=10, **kwargs
        )

    def get(self, path: str) -> Any:
        response = self.request("GET", path)
        assert response.status_code == 200, response.text
        return response.json()

    def conversation(self, conversation_id: str) -> dict[str, Any]:
        return self.get(f"api/conversations/{conversation_id}")

    def ws(self, **kwargs: Any) -> Ws:
        client = Ws(self.ws_url, **kwargs)
        assert client.recv(skip=())["type"] == "status"
        return client

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace") if self.stderr_path.exists() else ""

    def logs(self) -> str:
        return "".join(p.read_text(errors="replace") for p in (self.data_dir / "logs").glob("*"))

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill9(self) -> None:
        """SIGKILL: no handler runs, nothing is flushed, as in a crash or a power cut."""
        if self.alive:
            os.kill(self.proc.pid, signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait(10)

    def stop(self, timeout: float = 15.0) -> int:
        if not self.alive:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        finally:
            self.kill9()


def chat_send(
    ws: Ws,
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
    ws: Ws, count: int, timeout: float = 20.0, *, already: list[dict] = ()
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
        self.app = App(["--ollama-url", self.fake.url, "--data-dir", str(data_dir)], data_dir)
        self.app.start()
        self.ws = self.app.ws()
        self.sent_at = time.monotonic()
        chat_send(self.ws, "wake the model up")

    def close(self) -> None:
        self.ws.close()
        self.app.stop()
        self.fake.stop()
