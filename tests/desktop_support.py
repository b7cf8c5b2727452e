"""Running the real desktop app on a private Xvfb screen, and looking at it."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.app_process import REPO

ARTIFACTS = REPO / "test-artifacts"


class Xvfb:
    """An X server of our own; `-displayfd` tells us which display number it took."""

    def __init__(self, size: str = "1280x800x24") -> None:
        read_fd, write_fd = os.pipe()
        self.proc = subprocess.Popen(
            ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", size, "-nolisten", "tcp"],
            pass_fds=(write_fd,),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(write_fd)
        with os.fdopen(read_fd) as pipe:
            self.display = ":" + pipe.readline().strip()

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / name
        subprocess.run(
            ["import", "-display", self.display, "-window", "root", str(path)],
            check=True,
            timeout=30,
        )
        return path

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def have_desktop_tools() -> bool:
    return all(shutil.which(tool) for tool in ("Xvfb", "import"))


class DesktopApp:
    """`cloudtolocalllm` (desktop mode) in a subprocess on the given display."""

    def __init__(self, display: str, *args: str, env: dict[str, str] | None = None) -> None:
        env = {
            **(os.environ if env is None else env),
            "DISPLAY": display,
            "PYWEBVIEW_GUI": "qt",
            "QT_QPA_PLATFORM": "xcb",
            "QTWEBENGINE_CHROMIUM_FLAGS": "--no-sandbox --disable-gpu",
            "LIBGL_ALWAYS_SOFTWARE": "1",
        }
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "backend", *args],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(
                f"desktop app exited (rc={self.proc.wait()}): {self.proc.stderr.read()[-3000:]}"
            )
        self.ready = json.loads(line)
        self.url = self.ready["url"]
        self.headers = {"Authorization": f"Bearer {self.ready['token']}"}

    def health(self) -> dict:
        return requests.get(self.url + "api/health", headers=self.headers, timeout=5).json()

    def wait_for(self, predicate, timeout: float = 60.0) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            health = self.health()
            if predicate(health):
                return health
            if self.proc.poll() is not None:
                raise RuntimeError(f"app died: {self.proc.stderr.read()[-3000:]}")
            time.sleep(0.2)
        raise TimeoutError(f"condition not met; last health: {health}")

    def quit(self, timeout: float = 30.0) -> int:
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
