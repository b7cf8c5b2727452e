"""`--web`: the same backend, the page opened in the system browser ($BROWSER here)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import requests

from tests.app_process import REPO
from tests.waiting import lines_when


def start_web(fake_ollama, data_dir, browser, env=None) -> subprocess.Popen:
    """`--web` in a subprocess, with `browser` as $BROWSER (and no display, unless `env`)."""
    env = {**os.environ, "DISPLAY": "", **(env or {}), "BROWSER": str(browser)}
    return subprocess.Popen(
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


def test_web_mode_opens_the_browser_with_a_code_and_quits_cleanly(fake_ollama, data_dir, tmp_path):
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser.sh"
    # The whole command line, as `ps` shows it to every local user.
    browser.write_text(f'#!/bin/sh\necho "$0 $*" >> {opened}\n')
    browser.chmod(0o755)
    proc = start_web(fake_ollama, data_dir, browser)
    try:
        ready = json.loads(proc.stdout.readline())
        first = lines_when(opened, 1)[0]
        assert ready["token"] not in first
        assert first == f"{browser} {ready['url']}?code={first.split('?code=')[1]}"
        # A second launch (or the tray's New chat) opens the page on a new chat.
        shown = requests.post(
            ready["url"] + "api/app/show",
            json={"new_chat": True},
            headers={"Authorization": f"Bearer {ready['token']}"},
            timeout=5,
        )
        assert shown.status_code == 202
        second = lines_when(opened, 2)[1]
        assert second.endswith("#new") and ready["token"] not in second
        codes = [line.split("?code=")[1].removesuffix("#new") for line in (first, second)]
        assert codes[0] != codes[1]
        exchange = ready["url"] + "api/session/exchange"
        for code in codes:
            traded = requests.post(exchange, json={"code": code}, timeout=5)
            assert traded.json() == {"token": ready["token"]}
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()


def test_web_mode_says_so_when_the_browser_fails_and_prints_the_url(
    fake_ollama, data_dir, tmp_path
):
    browser = tmp_path / "broken-browser.sh"
    browser.write_text("#!/bin/sh\nexit 3\n")
    browser.chmod(0o755)
    proc = start_web(fake_ollama, data_dir, browser)
    try:
        ready = json.loads(proc.stdout.readline())
        line = proc.stderr.readline()
        while "did not start" not in line and line:
            line = proc.stderr.readline()
        assert f"{browser} did not start; open {ready['open_url']} in your browser" in line
        # The app carries on serving: the printed address works.
        health = requests.get(ready["open_url"].replace("/?", "/api/health?"), timeout=5)
        assert health.status_code == 200
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
