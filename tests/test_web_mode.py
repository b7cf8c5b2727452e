"""`--web`: the same backend, the page opened in the system browser ($BROWSER here)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import requests

from tests.app_process import REPO


def test_web_mode_opens_the_browser_and_quits_cleanly(fake_ollama, data_dir, tmp_path):
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser.sh"
    browser.write_text(f'#!/bin/sh\necho "$1" >> {opened}\n')
    browser.chmod(0o755)
    env = {**os.environ, "BROWSER": str(browser), "DISPLAY": ""}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "backend",
            "--web",
            "--ollama-url",
            fake_ollama.url,
            "--data-dir",
            str(data_dir),
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        ready = json.loads(proc.stdout.readline())
        page = f"{ready['url']}?token={ready['token']}"
        assert wait_for_lines(opened, 1) == [page]
        # A second launch (or the tray's New chat) opens the page on a new chat.
        shown = requests.post(
            ready["url"] + "api/app/show",
            json={"new_chat": True},
            headers={"Authorization": f"Bearer {ready['token']}"},
            timeout=5,
        )
        assert shown.status_code == 202
        assert wait_for_lines(opened, 2) == [page, page + "#new"]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()


def wait_for_lines(path, count, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = path.read_text().splitlines() if path.exists() else []
        if len(lines) >= count:
            return lines
        time.sleep(0.05)
    raise TimeoutError(f"{path} has fewer than {count} lines")
