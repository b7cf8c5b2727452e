"""No crash when the window cannot open: the app says why in one line and opens in the
browser instead (Qt would abort the process with exit 134), and --self-test tells the truth.

A missing library is simulated for real: a stand-in libxcb-cursor.so.0 on LD_LIBRARY_PATH
that needs a library which does not exist. Qt's xcb plugin then cannot load, exactly as on
a system without the package (Qt aborts with 134 there: measured).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from backend.desktop import gui_probe
from tests.app_process import REPO
from tests.desktop_support import Xvfb

GONE = "libcloudtolocalllm-gone.so"
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux's Qt")


@pytest.fixture(scope="module")
def broken_libs(tmp_path_factory) -> Path:
    """A folder whose libxcb-cursor.so.0 needs GONE, which is nowhere."""
    if shutil.which("gcc") is None:
        pytest.skip("needs gcc to build the stand-in library")
    folder = tmp_path_factory.mktemp("broken-libs")
    (folder / "gone.c").write_text("int gone(void) { return 1; }\n")
    (folder / "cursor.c").write_text(
        "extern int gone(void);\nint xcb_cursor_context_new(void) { return gone(); }\n"
    )
    cc = ["gcc", "-shared", "-fPIC"]
    subprocess.run([*cc, "-o", folder / GONE, folder / "gone.c"], check=True)
    subprocess.run(
        [*cc, "-o", folder / "libxcb-cursor.so.0", "-Wl,-soname,libxcb-cursor.so.0"]
        + [folder / "cursor.c", f"-L{folder}", "-lcloudtolocalllm-gone"],
        check=True,
    )
    (folder / GONE).unlink()
    return folder


def unused_display() -> str:
    """A display number with no X server behind it (nor its socket or lock file)."""
    for number in range(400, 500):
        if (
            not Path(f"/tmp/.X11-unix/X{number}").exists()
            and not Path(f"/tmp/.X{number}-lock").exists()
        ):
            return f":{number}"
    raise RuntimeError("no free display number")


def run_desktop_mode(fake_ollama, data_dir, tmp_path, env: dict[str, str]) -> dict:
    """Start desktop mode, check it serves in the browser instead, stop it; what it said."""
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser.sh"
    browser.write_text(f'#!/bin/sh\necho "$1" >> {opened}\n')
    browser.chmod(0o755)
    full_env = {**os.environ, "BROWSER": str(browser), "QT_QPA_PLATFORM": "", **env}
    full_env = {key: value for key, value in full_env.items() if value is not None}
    proc = subprocess.Popen(
        [sys.executable, "-m", "backend", "--ollama-url", fake_ollama.url]
        + ["--data-dir", str(data_dir)],
        cwd=REPO,
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        assert line, f"exited {proc.wait()}: {proc.stderr.read()}"
        ready = json.loads(line)
        health = requests.get(ready["open_url"].replace("/?", "/api/health?"), timeout=10)
        assert health.status_code == 200
        page = requests.get(ready["url"], timeout=10)
        assert page.status_code == 200 and "<html" in page.text.lower()
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    stderr = proc.stderr.read()
    proc.stdout.close()
    proc.stderr.close()
    return {"code": code, "stderr": stderr, "ready": ready, "opened": opened}


def the_line(result: dict) -> str:
    lines = [line for line in result["stderr"].splitlines() if "no window" in line]
    assert len(lines) == 1, result["stderr"]
    assert "reinstalling" not in result["stderr"] and "Traceback" not in result["stderr"]
    return lines[0]


def assert_opened_in_the_browser(result: dict) -> None:
    assert result["code"] == 0
    opened = result["opened"].read_text().splitlines()
    assert len(opened) == 1 and opened[0].startswith(result["ready"]["url"] + "?code=")


@pytest.mark.timeout(90)
def test_no_display_opens_in_the_browser(fake_ollama, data_dir, tmp_path):
    result = run_desktop_mode(
        fake_ollama, data_dir, tmp_path, {"DISPLAY": None, "WAYLAND_DISPLAY": None}
    )
    assert the_line(result) == (
        "cloudtolocalllm: no window: no display (DISPLAY is not set): "
        "start it from a desktop session; opening in the browser"
    )
    assert_opened_in_the_browser(result)
    assert len(result["stderr"].splitlines()) == 1  # no tray complaint either


@pytest.mark.timeout(90)
def test_an_unreachable_display_opens_in_the_browser(fake_ollama, data_dir, tmp_path):
    display = unused_display()
    result = run_desktop_mode(
        fake_ollama, data_dir, tmp_path, {"DISPLAY": display, "WAYLAND_DISPLAY": None}
    )
    line = the_line(result)
    assert line.startswith(
        f"cloudtolocalllm: no window: no display: cannot connect to DISPLAY={display} ("
    )
    assert line.endswith(
        "check that the X server is running and this user may use it; opening in the browser"
    )
    assert_opened_in_the_browser(result)


@pytest.mark.desktop
@pytest.mark.timeout(90)
def test_a_missing_library_is_named_and_the_app_opens_in_the_browser(
    fake_ollama, data_dir, tmp_path, broken_libs
):
    if shutil.which("Xvfb") is None:
        pytest.skip("needs Xvfb")
    xvfb = Xvfb()
    try:
        env = {"DISPLAY": xvfb.display, "LD_LIBRARY_PATH": str(broken_libs)}
        env["PYSTRAY_BACKEND"] = "xorg"  # no tray host here; keep the output to the point
        result = run_desktop_mode(fake_ollama, data_dir, tmp_path, env)
    finally:
        xvfb.stop()
    assert the_line(result) == (
        f"cloudtolocalllm: no window: missing system libraries {GONE}: "
        "install the packages that provide them; opening in the browser"
    )
    assert_opened_in_the_browser(result)


def self_test(env: dict[str, str | None]) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **env}
    return subprocess.run(
        [sys.executable, "-m", "backend", "--self-test", "--ollama-url", "http://127.0.0.1:9"],
        cwd=REPO,
        env={key: value for key, value in full_env.items() if value is not None},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.timeout(150)
def test_self_test_fails_on_a_missing_library_and_reports_the_display(broken_libs):
    broken = self_test({"DISPLAY": None, "LD_LIBRARY_PATH": str(broken_libs)})
    assert broken.returncode == 1
    assert f"gui FAILED (missing system libraries {GONE}: " in broken.stdout
    fine = self_test({"DISPLAY": None, "WAYLAND_DISPLAY": None})
    assert fine.returncode == 0, fine.stdout
    assert "gui ok (pywebview + Qt WebEngine)" in fine.stdout
    assert "display: no display (DISPLAY is not set)" in fine.stdout


def test_ldd_names_what_is_missing_and_the_packages_that_provide_it(broken_libs, monkeypatch):
    assert gui_probe.missing_libraries(broken_libs / "libxcb-cursor.so.0") == [GONE]
    assert gui_probe.missing_libraries(broken_libs / "nothing-here.so") == []
    monkeypatch.setattr(
        gui_probe, "_missing_for_webengine", lambda: ["libxkbfile.so.1", "libnss3.so"]
    )
    monkeypatch.setattr(gui_probe, "missing_libraries", lambda _plugin: ["libxcb-cursor.so.0"])
    problem = gui_probe.library_problem()
    assert problem.kind == "libraries"
    assert problem.message == (
        "missing system libraries libnss3.so, libxcb-cursor.so.0, libxkbfile.so.1: "
        "install them (Debian/Ubuntu: apt install libnss3 libxcb-cursor0 libxkbfile1)"
    )


def test_a_display_qt_needs_none_of_is_no_problem(monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert gui_probe.display_problem() is None
    monkeypatch.setenv("QT_QPA_PLATFORM", "")
    assert gui_probe.display_problem().kind == "display"
