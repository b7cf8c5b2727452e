"""The tray menu under real tray hosts, on a private Xvfb and a private session bus.

- XEmbed (trayer): the AppIndicator item finds no StatusNotifierWatcher and falls back to
  an XEmbed icon; a right-click opens its GTK menu, driven here with xdotool as a user
  would, in desktop mode with the Qt window in the same process.
- StatusNotifierItem: tests/sni_panel.py acts as the panel (KDE's, XFCE's): it owns the
  watcher name, reads the item's properties and dbusmenu layout, and sends the `Event`
  of a click. Web mode here (no window needed): its actions open the browser, which is a
  script that writes down what it was asked to open.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from PIL import Image

from backend.core.store import Store
from backend.desktop.icons import dot_centre
from tests.desktop_support import DesktopApp, Xvfb
from tests.test_tray import MENU_ACTIONS
from tests.test_web_mode import start_web

TOOLS = ("Xvfb", "import", "trayer", "xdotool", "dbus-daemon")
pytestmark = [
    pytest.mark.desktop,
    pytest.mark.skipif(
        not all(shutil.which(tool) for tool in TOOLS), reason=f"needs {', '.join(TOOLS)}"
    ),
]
sni_panel = pytest.importorskip("tests.sni_panel", reason="needs jeepney")
try:
    import gi

    gi.require_version("AyatanaAppIndicator3", "0.1")
except (ImportError, ValueError):
    pytest.skip("needs PyGObject and gir1.2-ayatanaappindicator3-0.1", allow_module_level=True)

WINDOW = "CloudToLocalLLM"


@pytest.fixture
def desktop_session():
    """A private X screen and a private session bus, as a desktop session has both."""
    screen, bus = Xvfb(), sni_panel.SessionBus()
    try:
        yield screen, bus
    finally:
        bus.stop()
        screen.stop()


def wait_until(predicate, timeout: float = 40.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise TimeoutError(f"{what} not met within {timeout:g} s")


def xdotool(display: str, *args: str) -> str:
    result = subprocess.run(
        ["xdotool", *args],
        env={**os.environ, "DISPLAY": display},
        capture_output=True,
        text=True,
        timeout=10,
    )
    return result.stdout.strip()


def window_named(display: str, exact_title: str) -> bool:
    """Whether a visible window has this exact title (the window follows the page's)."""
    # xdotool's regex reads bytes: ".*" stands for the dash, three bytes in UTF-8.
    pattern = "^" + exact_title.replace("—", ".*") + "$"
    return bool(xdotool(display, "search", "--onlyvisible", "--name", pattern))


def visible_windows(display: str) -> set[str]:
    return set(xdotool(display, "search", "--onlyvisible", "--name", "").split())


def seed_conversation(data_dir: Path, title: str) -> str:
    store = Store(data_dir / "cloudtolocalllm.db")
    try:
        return store.create_conversation(title=title)["id"]
    finally:
        store.close()


class Trayer:
    """Debian's trayer: an XEmbed system tray at the top right of the screen."""

    def __init__(self, display: str) -> None:
        self.proc = subprocess.Popen(
            ["trayer", "--edge", "top", "--align", "right", "--widthtype", "pixel"]
            + ["--width", "200", "--heighttype", "pixel", "--height", "32"],
            env={**os.environ, "DISPLAY": display},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(
            lambda: xdotool(display, "search", "--onlyvisible", "--class", "trayer"),
            what="trayer's window",
        )

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def geometry(display: str, window: str) -> dict[str, int]:
    shell = xdotool(display, "getwindowgeometry", "--shell", window).split()
    return {key: int(value) for key, value in (line.split("=") for line in shell)}


def docked_icon(display: str) -> str:
    """The docked icon's window: GTK names it after the tooltip, its class is the app's."""
    found = xdotool(display, "search", "--onlyvisible", "--class", f"^{WINDOW}$")
    return found.split()[0] if found else ""


def open_menu(display: str, icon: str) -> None:
    """Right-click the docked icon; the menu is a new visible window of a menu's size."""
    before = visible_windows(display)
    shape = geometry(display, icon)
    x, y = shape["X"] + shape["WIDTH"] // 2, shape["Y"] + shape["HEIGHT"] // 2
    xdotool(display, "mousemove", str(x), str(y), "click", "3")

    def menu() -> bool:
        new = visible_windows(display) - before
        return any(geometry(display, window)["HEIGHT"] > 100 for window in new)

    wait_until(menu, 30, "the tray menu to open")
    time.sleep(0.5)  # the menu is mapped before it is painted


@pytest.mark.timeout(240)
def test_xembed_tray_menu_opens_a_conversation_and_a_new_chat(
    desktop_session, fake_ollama, data_dir
):
    xvfb, session_bus = desktop_session
    seed_conversation(data_dir, "Tray pick")
    trayer = Trayer(xvfb.display)
    app = None
    try:
        env = sni_panel.bus_env(session_bus)
        args = ("--ollama-url", fake_ollama.url, "--data-dir", str(data_dir))
        app = DesktopApp(xvfb.display, *args, env=env)
        wait_until(lambda: window_named(xvfb.display, WINDOW), 60, "the window")
        app.wait_for(lambda health: health["connection"]["state"] == "connected")
        icon = wait_until(lambda: docked_icon(xvfb.display), 30, "the docked icon")
        # The icon's tooltip (its window name here) follows the connection live.
        connected = f"^{WINDOW} .* Connected to Ollama 0.13.0 at "
        wait_until(lambda: xdotool(xvfb.display, "search", "--name", connected), 40, "tooltip")
        open_menu(xvfb.display, icon)
        shot = xvfb.screenshot("tray-xembed-menu.png")
        # Keyboard as a user would: the status line is greyed out and skipped.
        xdotool(xvfb.display, "key", "Down", "Down", "Down", "Right")
        time.sleep(0.5)
        xvfb.screenshot("tray-xembed-recent.png")
        xdotool(xvfb.display, "key", "Return")
        wait_until(lambda: window_named(xvfb.display, f"Tray pick — {WINDOW}"), 40, "Tray pick")
        open_menu(xvfb.display, icon)
        xdotool(xvfb.display, "key", "Down", "Down", "Return")  # Open, New chat
        wait_until(lambda: window_named(xvfb.display, WINDOW), 40, "a new chat")
        assert app.health()["status"] == "ok" and shot.stat().st_size > 0
    finally:
        if app is not None:
            assert app.quit() == 0
        trayer.stop()


def dot_colour(panel, item, attempts: int = 5) -> tuple[int, int, int]:
    """The status dot's colour in the icon file the item names now. A new icon replaces
    the file (a panel hears NewIcon and reads the name again): so read it again."""
    for _ in range(attempts - 1):
        try:
            return read_dot(panel.item_property(item, "IconName"))
        except FileNotFoundError:
            time.sleep(0.2)
    return read_dot(panel.item_property(item, "IconName"))


def read_dot(icon_file: str) -> tuple[int, int, int]:
    with Image.open(icon_file) as image:
        return image.convert("RGBA").getpixel(dot_centre(image.width))[:3]


def lines_of(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


@pytest.mark.timeout(240)
def test_status_notifier_item_menu_acts_and_follows_the_connection(
    desktop_session, fake_ollama, data_dir, tmp_path
):
    xvfb, session_bus = desktop_session
    cid = seed_conversation(data_dir, "Tray pick")
    panel = sni_panel.Panel(session_bus.address)  # before the app: it registers with us
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser.sh"
    browser.write_text(f'#!/bin/sh\necho "$1" >> {opened}\n')
    browser.chmod(0o755)
    env = {"DBUS_SESSION_BUS_ADDRESS": session_bus.address, "DISPLAY": xvfb.display}
    proc = start_web(fake_ollama, data_dir, browser, env)
    try:
        ready = json.loads(proc.stdout.readline())
        item = panel.wait_for_item()
        assert panel.item_property(item, "Status") == "Active"
        # Title is the item's hover text on StatusNotifierItem hosts.
        wait_until(
            lambda: "Connected to Ollama 0.13.0" in panel.item_property(item, "Title"),
            what="the connected title",
        )
        assert dot_colour(panel, item) == (34, 197, 94)
        menu = panel.menu_layout(item)
        labels = [entry["label"] for entry in menu["children"] if entry["type"] != "separator"]
        assert labels[1:] == MENU_ACTIONS
        status = menu["children"][0]
        assert status["label"].startswith("● Connected") and status["enabled"] is False
        recent = sni_panel.find_entry(menu, "Recent conversations")
        assert [entry["label"] for entry in recent["children"]] == ["Tray pick"]

        panel.click_label(item, "New chat")
        wait_until(lambda: len(lines_of(opened)) >= 2, what="New chat to open the browser")
        panel.click_label(item, "Tray pick")
        wait_until(lambda: len(lines_of(opened)) >= 3, what="Tray pick to open the browser")
        first, new_chat, picked = lines_of(opened)
        assert new_chat.startswith(ready["url"] + "?code=") and new_chat.endswith("#new")
        assert picked.endswith(f"#conversation={cid}")
        assert ready["token"] not in "".join(lines_of(opened))

        # Reconnect asks Ollama at once: the model list is re-read now, not in a minute.
        tags = lambda: sum(r["path"] == "/api/tags" for r in fake_ollama.requests)  # noqa: E731
        before = tags()
        panel.click_label(item, "Reconnect now")
        wait_until(lambda: tags() > before, 30, "Reconnect to reach Ollama")

        # Ollama goes away: the title, the icon and the status line follow.
        fake_ollama.stop()
        wait_until(
            lambda: "Connected" not in panel.item_property(item, "Title"),
            60,
            "the title to leave Connected",
        )
        assert dot_colour(panel, item) != (34, 197, 94)
        wait_until(
            lambda: not panel.menu_layout(item)["children"][0]["label"].startswith("●"),
            30,
            "the status line to change",
        )
        panel.click_label(item, "Quit")
        assert proc.wait(20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        proc.stderr.close()
        panel.close()
