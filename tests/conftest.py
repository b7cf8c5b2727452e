"""Shared fixtures: a temp data dir for every test, the fake Ollama, and running backends."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.fake_ollama import FakeOllama

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path_factory, monkeypatch) -> Path:
    """Never touch the user's real data: app data, caches and config all go to temp dirs."""
    home = tmp_path_factory.mktemp("home")
    for name in ("XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME"):
        path = home / name.lower()
        path.mkdir()
        monkeypatch.setenv(name, str(path))
    data_dir = home / "appdata"
    monkeypatch.setenv("CLOUDTOLOCALLLM_DATA_DIR", str(data_dir))
    monkeypatch.delenv("OLLAMA_HOST", raising=False)
    return data_dir


@pytest.fixture
def fake_ollama():
    fake = FakeOllama().start()
    yield fake
    fake.stop()


@pytest.fixture
def data_dir(isolated_dirs) -> Path:
    return isolated_dirs


@pytest.fixture
def runtime(fake_ollama, data_dir):
    """The whole backend in this process: real services, real server thread."""
    from backend.runtime import Runtime
    from backend.settings import Settings, prepare_data_dir

    settings = Settings(
        mode="headless", ollama_url=fake_ollama.url, data_dir=prepare_data_dir(data_dir)
    )
    rt = Runtime(settings).start()
    yield rt
    rt.stop()


class HeadlessApp:
    """`cloudtolocalllm --headless` in a subprocess, with its ready line parsed."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.args = args
        self.env = {**os.environ, **(env or {})}
        self.proc: subprocess.Popen | None = None
        self.ready: dict = {}

    def start(self, timeout: float = 20.0) -> HeadlessApp:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "backend", "--headless", *self.args],
            cwd=REPO,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + timeout
        line = self.proc.stdout.readline()
        if not line:
            err = self.proc.stderr.read()
            raise RuntimeError(f"app exited before ready (rc={self.proc.wait()}): {err}")
        assert time.monotonic() < deadline
        self.ready = json.loads(line)
        return self

    @property
    def url(self) -> str:
        return self.ready["url"]

    @property
    def token(self) -> str:
        return self.ready["token"]

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + f"ws?token={self.token}"

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def stop(self, sig: int | None = None, timeout: float = 15.0) -> int:
        import signal as _signal

        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(sig or _signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()


@pytest.fixture
def headless_app(fake_ollama, data_dir):
    """A factory: start the app as a subprocess against the fake Ollama; stopped after."""
    started: list[HeadlessApp] = []

    def start(*extra: str, env: dict[str, str] | None = None) -> HeadlessApp:
        app = HeadlessApp(
            "--ollama-url", fake_ollama.url, "--data-dir", str(data_dir), *extra, env=env
        ).start()
        started.append(app)
        return app

    yield start
    for app in started:
        app.stop()
