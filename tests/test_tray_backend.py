"""Which tray backend Linux gets: AppIndicator (a menu) when it can start, else X11."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from backend.desktop import tray_backend
from tests.test_tray import REPO, xvfb_display  # noqa: F401  (a fixture)

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux trays")


def has_appindicator() -> bool:
    try:
        import gi

        gi.require_version("AyatanaAppIndicator3", "0.1")
    except (ImportError, ValueError):
        return False
    return True


@pytest.fixture
def no_bus(monkeypatch, tmp_path):
    monkeypatch.delenv("PYSTRAY_BACKEND", raising=False)
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))  # holds no `bus`
    return tmp_path


def test_a_backend_named_by_the_user_wins(no_bus, monkeypatch):
    monkeypatch.setenv("PYSTRAY_BACKEND", "gtk")
    assert tray_backend.preferred_backend() is None


def test_without_a_session_bus_it_is_x11(no_bus):
    assert not tray_backend.session_bus_available()
    assert tray_backend.appindicator_problem().startswith("no D-Bus session bus")
    assert tray_backend.preferred_backend() == tray_backend.XORG


def test_a_bus_address_whose_socket_is_gone_is_no_bus(no_bus, monkeypatch):
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={no_bus / 'gone'},guid=1")
    assert not tray_backend.session_bus_available()


@pytest.mark.parametrize("where", ["address", "runtime_dir"])
def test_with_a_session_bus_and_pygobject_it_is_appindicator(no_bus, monkeypatch, where):
    if not has_appindicator():
        pytest.skip("needs PyGObject and gir1.2-ayatanaappindicator3-0.1")
    socket_file = no_bus / "bus"
    socket_file.touch()
    if where == "address":
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={socket_file}")
    assert tray_backend.session_bus_available()
    assert tray_backend.preferred_backend() == tray_backend.APPINDICATOR


def test_an_abstract_socket_address_counts_as_a_bus(no_bus, monkeypatch):
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", "unix:abstract=/tmp/dbus-x,guid=1")
    assert tray_backend.session_bus_available()


FALLBACK_SCRIPT = textwrap.dedent(
    """
    import json, logging, sys
    from Xlib import X, display
    from backend.core.events import EventBus
    from backend.desktop.tray import Tray, TrayActions

    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    host = display.Display()  # a stand-in system tray, so the X11 icon can dock
    window = host.screen().root.create_window(0, 0, 10, 10, 0, X.CopyFromParent)
    window.set_selection_owner(host.intern_atom("_NET_SYSTEM_TRAY_S0"), X.CurrentTime)
    host.sync()
    bus = EventBus()
    actions = TrayActions(*(lambda: None for _ in range(5)), lambda cid: None, list)
    tray = Tray(bus, actions, {"state": "connecting", "endpoint": "http://127.0.0.1:1"})
    chosen = tray.backend
    started = tray.start()
    result = {"chosen": chosen, "used": type(tray.icon).__module__, "started": started}
    tray.stop()
    bus.close()
    print(json.dumps(result), flush=True)
    """
)


@pytest.mark.timeout(60)
def test_when_appindicator_cannot_start_the_x11_tray_takes_over(xvfb_display, tmp_path):  # noqa: F811
    if not has_appindicator():
        pytest.skip("needs PyGObject and gir1.2-ayatanaappindicator3-0.1")
    not_a_bus = tmp_path / "bus"
    not_a_bus.touch()  # looks like a session bus, refuses connections
    env = {**os.environ, "DISPLAY": xvfb_display}
    env["DBUS_SESSION_BUS_ADDRESS"] = f"unix:path={not_a_bus}"
    env.pop("PYSTRAY_BACKEND", None)
    proc = subprocess.run(
        [sys.executable, "-c", FALLBACK_SCRIPT],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=40,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {
        "chosen": "appindicator",
        "used": "pystray._xorg",
        "started": True,
    }
    assert "the AppIndicator tray cannot start" in proc.stderr
