"""The double-click app: `pyinstaller build.spec` builds a bundle that works on its own.

The bundle is built once per test session into a temp dir (about 30 s); each `packaging`
test then runs the bundle's executable as a user would. The first tests here check the
spec's filter on made-up tables and need no build.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from backend import __version__
from tests.app_process import REPO
from tests.desktop_support import Xvfb, have_desktop_tools
from tests.fake_ollama import DEFAULT_TOKENS
from tests.waiting import eventually
from tests.wsclient import WsClient

APP = "CloudToLocalLLM"
# The trimmed bundle measured 376 MB (the untrimmed one 693 MB); well past this means Qt's
# translations, QML or unused plugins came back.
MAX_BUNDLE_MB = 450
needs_pyinstaller = pytest.mark.skipif(
    importlib.util.find_spec("PyInstaller") is None, reason="needs PyInstaller"
)
bundle_test = [pytest.mark.packaging, pytest.mark.timeout(900), needs_pyinstaller]


def _load_filter():
    # packaging/ is not a Python package (it would shadow PyPI's `packaging`): load by path.
    spec = importlib.util.spec_from_file_location(
        "bundle_filter", REPO / "packaging" / "bundle_filter.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bundle_filter = _load_filter()
QT = "PyQt6/Qt6/"


def test_filter_drops_qt_translations_qml_and_unused_plugins_only():
    assert bundle_filter.unused_data(QT + "translations/qt_de.qm")
    assert bundle_filter.unused_data(QT + "translations/qtwebengine_locales/de.pak")
    assert not bundle_filter.unused_data(QT + "translations/qtwebengine_locales/en-US.pak")
    assert bundle_filter.unused_data(QT + "qml/QtQuick/Controls/qmldir")
    assert not bundle_filter.unused_data(QT + "resources/qtwebengine_resources.pak")
    assert not bundle_filter.unused_data("frontend/index.html")
    assert bundle_filter.unused_plugin(QT + "plugins/platformthemes/libqgtk3.so")
    assert bundle_filter.unused_plugin(QT + "plugins/position/libqtposition_geoclue2.so")
    assert not bundle_filter.unused_plugin(QT + "plugins/platforms/libqxcb.so")
    assert not bundle_filter.unused_plugin(QT + "plugins/platforms/libqwayland.so")
    assert not bundle_filter.unused_plugin(
        QT + "plugins/xcbglintegrations/libqxcb-glx-integration.so"
    )


def test_prune_takes_a_dropped_plugins_libraries_only_when_nothing_kept_needs_them():
    gtk, glib, gui = "/usr/lib/libgtk-3.so.0", "/usr/lib/libglib-2.0.so.0", "/q/libQt6Gui.so.6"
    links = {"/src/libqgtk3.so": [gtk, glib, gui], "/src/libqxcb.so": [gui, glib], gui: [glib]}
    binaries = [
        (QT + "plugins/platformthemes/libqgtk3.so", "/src/libqgtk3.so", "BINARY"),
        (QT + "plugins/platforms/libqxcb.so", "/src/libqxcb.so", "BINARY"),
        (QT + "lib/libQt6Gui.so.6", gui, "BINARY"),
        ("libgtk-3.so.0", gtk, "BINARY"),
        ("libglib-2.0.so.0", glib, "BINARY"),
        ("libsoftokn3.so", "/usr/lib/libsoftokn3.so", "BINARY"),  # loaded by name, linked by none
    ]
    kept = bundle_filter.prune(binaries, bundle_filter.unused_plugin, lambda s: links.get(s, []))
    assert [entry[0] for entry in kept] == [
        QT + "plugins/platforms/libqxcb.so",
        QT + "lib/libQt6Gui.so.6",
        "libglib-2.0.so.0",
        "libsoftokn3.so",
    ]
    symlinks = [
        ("libQt6Gui.so.6", QT + "lib/libQt6Gui.so.6", "SYMLINK"),
        ("libQt6Pdf.so.6", QT + "lib/libQt6Pdf.so.6", "SYMLINK"),
        ("frontend/index.html", "/repo/frontend/index.html", "DATA"),
    ]
    assert bundle_filter.without_dangling_symlinks(symlinks, kept + symlinks) == [
        symlinks[0],
        symlinks[2],
    ]


@pytest.fixture(scope="session")
def bundle(tmp_path_factory) -> Path:
    """`pyinstaller build.spec` into a temp dir, once; the path of the built executable."""
    root = tmp_path_factory.mktemp("pyinstaller")
    done = subprocess.run(
        [sys.executable, "-m", "PyInstaller", "--noconfirm", "build.spec",
         "--distpath", str(root / "dist"), "--workpath", str(root / "build")],
        cwd=REPO,
        env={**os.environ, "PYINSTALLER_CONFIG_DIR": str(root / "config")},
        capture_output=True,
        text=True,
        timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-5000:]
    exe = root / "dist" / APP / APP
    assert exe.is_file() and os.access(exe, os.X_OK)
    return exe


def run_bundle(exe: Path, *args: str, env=None, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(exe), *args],
        cwd=exe.parent.parent,  # not the repo: nothing may come from the checkout
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


class TestBundle:
    pytestmark = bundle_test

    def test_version(self, bundle):
        done = run_bundle(bundle, "--version")
        assert done.returncode == 0 and done.stdout == f"cloudtolocalllm {__version__}\n"

    def test_self_test_passes(self, bundle, fake_ollama):
        done = run_bundle(bundle, "--self-test", "--ollama-url", fake_ollama.url)
        assert done.returncode == 0, done.stdout + done.stderr[-3000:]
        assert done.stdout.count("\n") == 1 and done.stdout.startswith("self-test passed: ")
        assert "gui ok" in done.stdout and f"ollama: connected at {fake_ollama.url}" in done.stdout

    def test_headless_serves_a_chat_and_exits_0_on_sigterm(self, bundle, fake_ollama, data_dir):
        proc = subprocess.Popen(
            [str(bundle), "--headless", "--data-dir", str(data_dir),
             "--ollama-url", fake_ollama.url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        try:
            ready = json.loads(proc.stdout.readline())
            assert ready["event"] == "ready" and ready["pid"] == proc.pid
            auth = {"Authorization": f"Bearer {ready['token']}"}
            health = requests.get(ready["url"] + "api/health", headers=auth, timeout=5)
            assert health.status_code == 200 and health.json()["version"] == __version__
            ws = WsClient(ready["url"].replace("http", "ws", 1) + f"ws?token={ready['token']}")
            ws.send(
                {"type": "chat.send", "request_id": "r", "conversation_id": None,
                 "content": "Why is the sky blue?", "model": "llama3.2"}
            )  # fmt: skip
            assert ws.reply()[-1]["content"] == "".join(DEFAULT_TOKENS)
            ws.close()
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(30) == 0
            assert proc.stdout.read() == ""
        finally:
            if proc.poll() is None:
                proc.kill()

    def test_bundle_holds_what_it_needs_and_not_what_it_does_not(self, bundle):
        internal = bundle.parent / "_internal"
        files = [p for p in bundle.parent.rglob("*") if p.is_file() and not p.is_symlink()]
        size_mb = sum(p.stat().st_size for p in files) / 1e6
        assert size_mb < MAX_BUNDLE_MB
        assert (internal / "frontend" / "index.html").is_file()
        assert (internal / "packaging" / "cloudtolocalllm.desktop").is_file()
        assert (internal / "packaging" / "icons" / "cloudtolocalllm-256.png").is_file()
        qt = internal / "PyQt6" / "Qt6"
        assert [p.name for p in (qt / "translations").rglob("*") if p.is_file()] == ["en-US.pak"]
        assert not (qt / "qml").exists()
        assert not (qt / "plugins" / "platformthemes" / "libqgtk3.so").exists()
        assert (qt / "plugins" / "platforms" / "libqxcb.so").is_file()
        assert (qt / "libexec" / "QtWebEngineProcess").is_file()
        assert not list(internal.glob("libgtk-3.so*"))  # came only with the GTK theme plugin
        dangling = [p for p in bundle.parent.rglob("*") if p.is_symlink() and not p.exists()]
        assert dangling == []

    def test_installs_a_desktop_entry_that_runs_the_bundle(self, bundle, tmp_path):
        home = tmp_path / "share"
        done = run_bundle(bundle, "--install-desktop-entry", env={"XDG_DATA_HOME": str(home)})
        assert done.returncode == 0, done.stderr
        entry = (home / "applications" / "cloudtolocalllm.desktop").read_text()
        assert f"\nExec={bundle}\n" in entry and f"\nTryExec={bundle}\n" in entry
        assert "\nPath=" not in entry and "\nStartupWMClass=CloudToLocalLLM\n" in entry
        assert (home / "icons/hicolor/512x512/apps/cloudtolocalllm.png").is_file()

    @pytest.mark.desktop
    @pytest.mark.skipif(not have_desktop_tools(), reason="needs Xvfb and ImageMagick")
    def test_window_starts_under_xvfb(self, bundle, fake_ollama, data_dir):
        screen = Xvfb()
        env = {
            **os.environ,
            "DISPLAY": screen.display,
            "QTWEBENGINE_CHROMIUM_FLAGS": "--no-sandbox --disable-gpu",
            "LIBGL_ALWAYS_SOFTWARE": "1",
        }
        proc = subprocess.Popen(
            [str(bundle), "--data-dir", str(data_dir), "--ollama-url", fake_ollama.url],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            ready = json.loads(proc.stdout.readline())
            auth = {"Authorization": f"Bearer {ready['token']}"}
            # The page in the window has loaded and opened its WebSocket.
            assert eventually(
                lambda: (
                    requests.get(ready["url"] + "api/health", headers=auth, timeout=5).json()[
                        "ui_connections"
                    ]
                    >= 1
                ),
                within=60,
            ), proc.stderr.read()[-3000:] if proc.poll() is not None else "no UI connection"
            conn, window = _window_named(screen.display, "CloudToLocalLLM")
            # The desktop entry's StartupWMClass, and the icon given to the window.
            assert window.get_wm_class() == ("CloudToLocalLLM", "CloudToLocalLLM")
            icon = window.get_full_property(conn.intern_atom("_NET_WM_ICON"), 0)
            assert icon is not None and len(icon.value) > 256 * 256  # 256 px ARGB, and more
            conn.close()
            time.sleep(1.0)  # the DOM updates before the screen repaints
            assert screen.screenshot("bundle-window.png").stat().st_size > 10_000
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(30) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
            screen.stop()


def _window_named(display_name: str, name: str):
    from Xlib import X, display

    conn = display.Display(display_name)
    for window in conn.screen().root.query_tree().children:
        attrs = window.get_attributes()
        if attrs.map_state == X.IsViewable and window.get_wm_name() == name:
            return conn, window
    raise AssertionError(f"no window named {name!r} on {display_name}")
