"""`cloudtolocalllm --headless` as a real process, for tests that need one."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import requests

from tests.wsclient import WsClient

REPO = Path(__file__).resolve().parent.parent


def start_until_ready_line(
    argv: list[str], env: dict[str, str], stderr_path: Path, timeout: float
) -> tuple[subprocess.Popen, str]:
    """Start a program whose stderr goes to a file (a full pipe would block it) and read
    its first stdout line: its ready line, or "" if none came in time."""
    with open(stderr_path, "wb") as err:
        proc = subprocess.Popen(
            argv, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=err, text=True
        )
    readable, _, _ = select.select([proc.stdout], [], [], timeout)
    return proc, (proc.stdout.readline() if readable else "")


class HeadlessApp:
    """`cloudtolocalllm --headless` in a subprocess, stderr to a file (a full pipe would
    block the app), with its ready line parsed."""

    def __init__(
        self,
        args: list[str],
        data_dir: Path,
        env: dict[str, str] | None = None,
        *,
        python_flags: list[str] | None = None,
    ):
        self.args, self.data_dir = args, data_dir
        self.env = {**os.environ, **(env or {})}
        self.python_flags = python_flags or []  # e.g. ["-X", "importtime"]
        self.stderr_path = data_dir.parent / f"stderr-{uuid.uuid4().hex[:8]}.txt"
        self.proc: subprocess.Popen | None = None
        self.ready: dict[str, Any] = {}

    def start(self, timeout: float = 20.0) -> HeadlessApp:
        argv = [sys.executable, *self.python_flags, "-m", "backend", "--headless", *self.args]
        self.proc, line = start_until_ready_line(argv, self.env, self.stderr_path, timeout)
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

    def ws(self, **kwargs: Any) -> WsClient:
        client = WsClient(self.ws_url, **kwargs)
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

    @property
    def pid(self) -> int:
        return self.proc.pid

    def __enter__(self) -> HeadlessApp:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
