"""`--self-test`: one line that says whether this build works, and the exit code to match."""

from __future__ import annotations

import io
import os
import shutil
import socket
import subprocess
import sys

import pytest

from backend.launcher.selftest import _references, run_self_test
from tests.app_process import REPO


@pytest.fixture(autouse=True)
def restore_environ():
    """The gui check imports pywebview's Qt module, which sets Qt variables on import."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture
def unused_port_url() -> str:
    """The address of a port nothing listens on: an Ollama that is not running."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def self_test(ollama_url: str) -> tuple[int, str]:
    out = io.StringIO()
    code = run_self_test(ollama_url, out=out)
    return code, out.getvalue()


def test_a_working_build_passes_with_ollama_connected(fake_ollama):
    code, report = self_test(fake_ollama.url)
    assert code == 0
    assert report.count("\n") == 1 and report.startswith("self-test passed: ")
    for check in ("database ok", "frontend ok", "websocket ok", "gui ok"):
        assert check in report
    assert f"ollama: connected at {fake_ollama.url}" in report


def test_ollama_not_running_is_reported_but_does_not_fail(unused_port_url):
    code, report = self_test(unused_port_url)
    assert code == 0 and report.startswith("self-test passed")
    assert f"ollama: not running at {unused_port_url}" in report


def test_a_bundle_missing_a_frontend_file_fails_and_names_it(
    tmp_path, monkeypatch, unused_port_url
):
    # A bundle is a folder with frontend/ inside; this one was packed without one module.
    shutil.copytree(REPO / "frontend", tmp_path / "frontend")
    (tmp_path / "frontend" / "js" / "util.js").unlink()
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    code, report = self_test(unused_port_url)
    assert code == 1
    assert report.startswith("self-test FAILED: ") and report.count("\n") == 1
    assert "frontend FAILED (missing js/util.js (404))" in report
    assert "database ok" in report and "websocket ok" in report


def test_every_file_the_page_loads_is_followed():
    assert _references("index.html", '<link href="css/app.css"><script src="js/main.js">') == [
        "css/app.css",
        "js/main.js",
    ]
    module = 'import { a } from "./util.js";\nimport x from "../vendor/m.js";\nimport("./lazy.js")'
    assert _references("js/main.js", module) == ["js/util.js", "vendor/m.js", "js/lazy.js"]
    # Strings in minified code, URLs elsewhere and data: URIs are not files of the bundle.
    noise = 'x={from:"a/b"};import y from "https://cdn/x.js";s="import z from ./q.js"'
    assert _references("vendor/lib.min.js", noise) == []
    css = 'a{background:url("data:image/svg+xml,%3Csvg")} b{background:url(../img/x.png)}'
    assert _references("css/app.css", css) == ["img/x.png"]
    # A font's first format is the one fetched; the ones after it are fallbacks.
    font = '@font-face{src:url(fonts/A.woff2) format("woff2"),url(fonts/A.woff) format("woff")}'
    assert _references("vendor/k.css", font) == ["vendor/fonts/A.woff2"]


def test_the_command_prints_one_line_and_leaves_no_data_behind(tmp_path, data_dir):
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "backend", "--self-test", "--ollama-url", "127.0.0.1:9"],
        cwd=REPO,
        env={**os.environ, "TMPDIR": str(scratch)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("\n") == 1 and done.stdout.startswith("self-test passed")
    assert "http://127.0.0.1:9" in done.stdout
    assert list(scratch.iterdir()) == []  # its temp data dir is gone
    assert not data_dir.exists()  # and the user's data dir was never touched


def test_self_test_is_a_mode_of_its_own(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "backend", "--self-test", "--headless"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2 and "not allowed with" in done.stderr
    assert done.stderr.count("\n") == 1
