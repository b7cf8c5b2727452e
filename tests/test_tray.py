"""The tray: icon pixels per state, its words, its menu, the bus, and failing to start.

pystray runs on its `dummy` backend here (no display needed): menus build and items can be
invoked, but `run()` raises. The X11 backend is exercised in a subprocess on a private Xvfb.
"""
# Over 300 lines on purpose: one test per tray state, word and menu action; shared fixtures.

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from backend.core.events import EventBus
from backend.desktop.icons import app_icon, dot_centre, draw_icon
from backend.desktop.platform_open import open_path
from backend.desktop.tray import Tray, TrayActions, status_line, tooltip_for

REPO = Path(__file__).resolve().parent.parent
ENDPOINT = "http://127.0.0.1:11434"


def make_status(state: str, **fields) -> dict:
    status = {
        "state": state,
        "endpoint": ENDPOINT,
        "latency_ms": None,
        "version": None,
        "error": None,
        "reconnect_attempt": 0,
        "next_retry_s": None,
    }
    return {**status, **fields}


CONNECTED = make_status("connected", latency_ms=12.4, version="0.13.0")
# The menu's entries after the status line, in order (separators left out).
MENU_ACTIONS = [
    "Open CloudToLocalLLM",
    "New chat",
    "Recent conversations",
    "Reconnect now",
    "Open data folder",
    "Quit",
]


@pytest.fixture
def dummy_pystray(monkeypatch):
    """pystray on its dummy backend, whatever an earlier import in this process chose."""
    monkeypatch.setenv("PYSTRAY_BACKEND", "dummy")
    loaded = sys.modules.get("pystray")
    if loaded is not None and loaded.Icon.__module__ != "pystray._base":
        monkeypatch.delitem(sys.modules, "pystray")


class Recorder:
    """TrayActions whose callbacks record their names."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.recent: list[dict] = []
        names = ("open_window", "new_chat", "reconnect", "open_data_folder", "quit")
        self.actions = TrayActions(
            **{name: self._recorder(name) for name in names},
            open_conversation=lambda cid: self.calls.append(f"open_conversation {cid}"),
            recent_conversations=lambda: self.recent,
        )

    def _recorder(self, name: str):
        return lambda: self.calls.append(name)


@pytest.fixture
def bus():
    bus = EventBus()
    yield bus
    bus.close()


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def tray(dummy_pystray, bus, recorder):
    tray = Tray(bus, recorder.actions, make_status("connecting"))
    yield tray
    tray.stop()


# -- icons ----------------------------------------------------------------------------


def is_green(r, g, b):
    return g > 150 and g > r + 60 and g > b + 60


def is_amber(r, g, b):
    return r > 200 and 100 < g < 200 and b < 80


def is_red(r, g, b):
    return r > 200 and g < 110 and b < 110


def is_grey(r, g, b):
    return max(r, g, b) - min(r, g, b) < 50 and 110 < g < 210


@pytest.mark.parametrize("size", [16, 32, 64])
@pytest.mark.parametrize(
    ("state", "looks"),
    [
        ("connected", is_green),
        ("connecting", is_amber),
        ("reconnecting", is_amber),
        ("error", is_red),
        ("disconnected", is_grey),
        ("something-new", is_grey),
    ],
)
def test_status_dot_has_the_colour_of_the_state(state, looks, size):
    image = draw_icon(state, size)
    assert image.mode == "RGBA" and image.size == (size, size)
    r, g, b, a = image.getpixel(dot_centre(size))
    assert a == 255 and looks(r, g, b), (state, (r, g, b))


def test_icons_differ_per_state_but_share_the_mark():
    states = ["connected", "connecting", "error", "disconnected"]
    images = {state: draw_icon(state).tobytes() for state in states}
    assert len(set(images.values())) == len(states)
    bubble = {draw_icon(state).getpixel((10, 20)) for state in states}
    assert len(bubble) == 1 and bubble.pop()[3] == 255  # the same opaque bubble everywhere


def test_icon_is_anti_aliased_with_a_transparent_background():
    histogram = draw_icon("connected").getchannel("A").histogram()
    alphas = {alpha for alpha, count in enumerate(histogram) if count}
    assert 0 in alphas and 255 in alphas
    assert any(0 < a < 255 for a in alphas)  # soft edges, not a jagged 1-bit mask


def test_app_icon_is_the_mark_without_a_status_dot():
    for size in (16, 48, 256):
        assert app_icon(size).size == (size, size) and app_icon(size).mode == "RGBA"
    mark = app_icon(64)
    assert mark.getpixel(dot_centre(64))[3] == 0
    assert mark.getpixel((10, 20)) == draw_icon("connected").getpixel((10, 20))


# -- words ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (CONNECTED, "Connected to Ollama 0.13.0 at 127.0.0.1:11434 (12 ms)"),
        (
            make_status("connected", version=None, latency_ms=3.0),
            "Connected to Ollama at 127.0.0.1:11434 (3 ms)",
        ),
        (
            make_status("connected", version="0.13.0"),
            "Connected to Ollama 0.13.0 at 127.0.0.1:11434",
        ),
        (make_status("connecting"), "Connecting to 127.0.0.1:11434…"),
        (make_status("reconnecting", next_retry_s=7.2), "Reconnecting to 127.0.0.1:11434 in 8 s"),
        (make_status("reconnecting", next_retry_s=8.0), "Reconnecting to 127.0.0.1:11434 in 8 s"),
        (make_status("reconnecting"), "Reconnecting to 127.0.0.1:11434…"),
        (make_status("disconnected", next_retry_s=2.0), "Ollama isn't running at 127.0.0.1:11434"),
        (
            make_status("error", error="HTTP 500 from /api/version"),
            "Error from 127.0.0.1:11434: HTTP 500 from /api/version",
        ),
        (make_status("error"), "Can't use Ollama at 127.0.0.1:11434"),
        (
            make_status("connecting", endpoint="https://gpu-box:8443/"),
            "Connecting to gpu-box:8443…",
        ),
    ],
)
def test_tooltip_for_each_state(status, expected):
    assert tooltip_for(status) == f"CloudToLocalLLM — {expected}"


@pytest.mark.parametrize(
    ("latency", "shown"),
    [(12.4, "12 ms"), (12.5, "13 ms"), (0.4, "<1 ms"), (999.6, "1000 ms"), (1534.0, "1.5 s")],
)
def test_latency_is_rounded_for_people(latency, shown):
    status = make_status("connected", version="0.13.0", latency_ms=latency)
    assert tooltip_for(status).endswith(f"({shown})")
    assert status_line(status) == f"● Connected · {shown}"


def test_tooltip_fits_windows_and_stays_on_one_line():
    status = make_status("error", error="line one\nline two " + "x" * 300)
    text = tooltip_for(status)
    assert len(text) <= 127 and text.endswith("…") and "\n" not in text
    assert "line one line two" in text


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (make_status("connected", latency_ms=12.4), "● Connected · 12 ms"),
        (make_status("connected"), "● Connected"),
        (make_status("connecting"), "◐ Connecting…"),
        (make_status("reconnecting", next_retry_s=0.3), "◐ Reconnecting in 1 s"),
        (make_status("disconnected"), "○ Ollama isn't running"),
        (make_status("error", error="model list is not JSON"), "○ Error: model list is not JSON"),
        ({}, "○ Status unknown"),
    ],
)
def test_status_line(status, expected):
    assert status_line(status) == expected


# -- menu -----------------------------------------------------------------------------


def test_each_menu_item_calls_its_action(tray, recorder):
    import pystray

    icon = tray.icon
    clickable = {
        item.text: item for item in icon.menu if item.enabled and item is not pystray.Menu.SEPARATOR
    }
    assert list(clickable) == MENU_ACTIONS
    for item in clickable.values():
        if item.submenu is None:
            item(icon)
    assert recorder.calls == [
        "open_window",
        "new_chat",
        "reconnect",
        "open_data_folder",
        "quit",
    ]


def test_clicking_the_icon_opens_the_window(tray, recorder):
    tray.icon.menu(tray.icon)  # what a left click on the icon fires
    assert recorder.calls == ["open_window"]
    assert [item.text for item in tray.icon.menu if item.default] == ["Open CloudToLocalLLM"]


def test_menu_layout_has_a_disabled_status_line_and_separators(tray, recorder):
    import pystray

    texts = ["---" if item is pystray.Menu.SEPARATOR else item.text for item in tray.icon.menu]
    assert texts == [
        "◐ Connecting…",
        "---",
        "Open CloudToLocalLLM",
        "New chat",
        "Recent conversations",
        "---",
        "Reconnect now",
        "Open data folder",
        "---",
        "Quit",
    ]
    status_item = list(tray.icon.menu)[0]
    assert status_item.enabled is False
    status_item(tray.icon)  # a disabled line does nothing even if a backend calls it
    assert recorder.calls == []


def test_update_changes_icon_tooltip_and_status_line(tray):
    before = tray.icon.icon
    assert tray.icon.title == tooltip_for(make_status("connecting"))
    tray.update(CONNECTED)
    assert tray.flush(timeout=5)
    assert (
        tray.icon.title == "CloudToLocalLLM — Connected to Ollama 0.13.0 at 127.0.0.1:11434 (12 ms)"
    )
    assert is_green(*tray.icon.icon.getpixel(dot_centre(tray.icon.icon.width))[:3])
    assert tray.icon.icon.tobytes() != before.tobytes()
    assert list(tray.icon.menu)[0].text == "● Connected · 12 ms"
    assert tray.status == CONNECTED


def test_a_failing_action_is_logged_not_raised(dummy_pystray, bus, caplog):
    def broken() -> None:
        raise OSError("xdg-open: not found")

    actions = Recorder().actions
    actions.open_data_folder = broken
    tray = Tray(bus, actions, make_status("connecting"))
    try:
        item = next(item for item in tray.icon.menu if item.text == "Open data folder")
        with caplog.at_level(logging.ERROR, logger="cloudtolocalllm.tray"):
            item(tray.icon)
        assert "open_data_folder" in caplog.text and "xdg-open: not found" in caplog.text
    finally:
        tray.stop()


def recent_menu(tray) -> list:
    item = next(item for item in tray.icon.menu if item.text == "Recent conversations")
    return list(item.submenu)


def test_recent_conversations_open_from_the_menu(dummy_pystray, bus, recorder):
    long_title = "A very long title that goes on\nand on past what a menu shows well"
    recorder.recent = [{"id": str(n), "title": f"Chat {n}"} for n in range(1, 8)]
    recorder.recent[1]["title"] = long_title
    tray = Tray(bus, recorder.actions, make_status("connecting"))
    try:
        items = recent_menu(tray)
        assert [item.text for item in items] == [
            "Chat 1",
            "A very long title that goes on and on p…",
            "Chat 3",
            "Chat 4",
            "Chat 5",
        ]
        items[2](tray.icon)
        assert recorder.calls == ["open_conversation 3"]
    finally:
        tray.stop()


def test_the_recent_list_follows_conversation_events(tray, bus, recorder):
    assert [(item.text, item.enabled) for item in recent_menu(tray)] == [
        ("No conversations yet", False)
    ]
    recorder.recent = [{"id": "9", "title": "Fresh"}]
    bus.publish("conversation.created", {"id": "9", "title": "Fresh"})
    assert tray.wait_until(lambda _status: tray.recent == recorder.recent, timeout=5)
    assert [item.text for item in recent_menu(tray)] == ["Fresh"]
    recorder.recent = []
    bus.publish("conversation.deleted", {"id": "9"})
    assert tray.wait_until(lambda _status: tray.recent == [], timeout=5)


# -- the bus --------------------------------------------------------------------------


def test_a_status_event_on_the_bus_updates_the_tray(tray, bus):
    bus.publish("status", make_status("error", error="HTTP 500"))
    assert tray.wait_until(lambda status: status["state"] == "error", timeout=5)
    assert tray.icon.title == "CloudToLocalLLM — Error from 127.0.0.1:11434: HTTP 500"
    assert is_red(*tray.icon.icon.getpixel(dot_centre(tray.icon.icon.width))[:3])
    assert list(tray.icon.menu)[0].text == "○ Error: HTTP 500"


def test_remote_access_state_shows_in_the_menu_while_it_is_on(tray, bus):
    import pystray

    def texts() -> list[str]:
        return ["---" if i is pystray.Menu.SEPARATOR else i.text for i in tray.icon.menu][:2]

    def shows(line: str) -> bool:
        deadline = time.monotonic() + 5
        while texts()[1] != line:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True

    assert texts()[1] == "---"  # off: no line, the separator follows the status line
    bus.publish("remote.changed", {"state": "online", "relay_url": "https://relay.example"})
    assert shows("● Remote access: online")
    assert list(tray.icon.menu)[1].enabled is False
    bus.publish("remote.changed", {"state": "offline", "relay_url": "https://relay.example"})
    assert shows("○ Remote access: relay unreachable")
    bus.publish("remote.changed", {"state": "off", "relay_url": None})
    assert shows("---")


def test_other_topics_do_not_touch_the_tray(tray, bus):
    bus.publish("conversation", {"state": "connected", "id": "1"})
    bus.publish("status", make_status("disconnected"))
    assert tray.wait_until(lambda status: status["state"] == "disconnected", timeout=5)
    assert tray.icon.title == "CloudToLocalLLM — Ollama isn't running at 127.0.0.1:11434"


def test_stop_unsubscribes_from_the_bus(dummy_pystray, bus):
    count = bus.subscriber_count()
    tray = Tray(bus, Recorder().actions, make_status("connecting"))
    assert bus.subscriber_count() == count + 1
    tray.stop()
    tray.stop()  # twice is harmless
    assert bus.subscriber_count() == count
    assert not tray.available


# -- no tray --------------------------------------------------------------------------


def tray_records(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "cloudtolocalllm.tray"]


def assert_no_tray(tray: Tray, caplog) -> None:
    with caplog.at_level(logging.DEBUG, logger="cloudtolocalllm.tray"):
        assert tray.start() is False
    records = tray_records(caplog)
    assert len(records) == 1, [r.getMessage() for r in records]
    assert "\n" not in records[0].getMessage() and records[0].exc_info is None
    assert not tray.available
    tray.update(CONNECTED)  # the app goes on calling it: harmless
    tray.stop()


def test_start_without_pystray_returns_false_and_logs_one_line(monkeypatch, bus, caplog):
    monkeypatch.setitem(sys.modules, "pystray", None)  # makes `import pystray` fail
    tray = Tray(bus, Recorder().actions, make_status("connecting"))
    assert tray.icon is None
    assert_no_tray(tray, caplog)


def test_start_without_a_display_returns_false(monkeypatch, bus, caplog):
    # Importing pystray with no display raises Xlib's DisplayNameError, not ImportError.
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("PYSTRAY_BACKEND", "xorg")
    monkeypatch.delitem(sys.modules, "pystray", raising=False)
    tray = Tray(bus, Recorder().actions, make_status("connecting"))
    assert_no_tray(tray, caplog)
    assert "DisplayNameError" in tray_records(caplog)[0].getMessage()


def test_start_when_the_backend_cannot_run_returns_false(tray, caplog):
    # The dummy backend builds an icon but raises on run(), like a broken tray would.
    assert tray.available
    assert_no_tray(tray, caplog)


# -- the X11 backend on a private Xvfb --------------------------------------------------

XORG_SCRIPT = textwrap.dedent(
    """
    import json, logging, sys, threading
    from Xlib import X, display
    from Xlib.protocol import event
    from backend.desktop.tray import Tray, TrayActions
    from backend.core.events import EventBus

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    status = json.loads(sys.argv[1])
    actions = TrayActions(*(lambda: None for _ in range(5)), lambda cid: None, lambda: [])
    result = {"cycles": []}
    bus = EventBus()

    lonely = Tray(bus, actions, status)  # no tray host on the display yet
    result["without_host"] = lonely.start()

    # A stand-in system tray: whoever owns this selection is where icons dock.
    host = display.Display()
    window = host.screen().root.create_window(0, 0, 10, 10, 0, X.CopyFromParent)
    window.set_selection_owner(host.intern_atom("_NET_SYSTEM_TRAY_S0"), X.CurrentTime)
    host.sync()

    # Several start/stop cycles: stopping races python-xlib's event reading (see tray_x11).
    for cycle in range(5):
        tray = Tray(bus, actions, status)
        started = tray.start()
        version = f"0.13.{cycle}"
        bus.publish("status", dict(status, state="connected", version=version))
        updated = tray.wait_until(lambda s: s.get("version") == version, timeout=5)
        title = tray.icon.title
        tray.stop()
        loop_alive = any(t.name == "tray" and t.is_alive() for t in threading.enumerate())
        result["cycles"].append([started, updated, title, tray.available, loop_alive])

    # A left click on the docked icon fires the default item: "Open CloudToLocalLLM".
    while host.pending_events():
        host.next_event()  # the earlier icons' dock requests
    opened = threading.Event()
    clicks = TrayActions(opened.set, *(lambda: None for _ in range(4)), lambda cid: None, list)
    clickable = Tray(bus, clicks, status)
    clickable.start()
    request = host.next_event()  # the dock request names the icon's window
    while request.type != X.ClientMessage:
        request = host.next_event()
    icon_window = host.create_resource_object("window", request.data[1][2])
    click = event.ButtonPress(
        time=X.CurrentTime, root=host.screen().root, window=icon_window, same_screen=1,
        child=X.NONE, root_x=1, root_y=1, event_x=1, event_y=1, state=0, detail=1,
    )
    icon_window.send_event(click)  # no event mask: it goes to the window's creator
    host.flush()
    result["clicked"] = opened.wait(5)
    clickable.stop()
    bus.close()
    print(json.dumps(result), flush=True)
    """
)


@pytest.fixture
def xvfb_display():
    if shutil.which("Xvfb") is None:
        pytest.skip("Xvfb is not installed")
    read_fd, write_fd = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "640x480x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        number = pipe.readline().strip()  # written once the server accepts clients
    yield f":{number}"
    server.terminate()
    server.wait(10)


@pytest.mark.timeout(30)
def test_x11_tray_needs_a_tray_host_and_exits_cleanly(xvfb_display):
    env = {**os.environ, "DISPLAY": xvfb_display, "PYSTRAY_BACKEND": "xorg"}
    proc = subprocess.run(
        [sys.executable, "-c", XORG_SCRIPT, json.dumps(make_status("connecting"))],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=20,  # a tray thread that kept the process alive would hit this
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["without_host"] is False
    assert result["clicked"] is True
    assert "no system tray on this X display" in proc.stderr
    # Started, updated through the bus, stopped with its loop thread gone, every time.
    # X11 window names are Latin-1: the dash in the tooltip becomes ASCII there.
    assert result["cycles"] == [
        [
            True,
            True,
            f"CloudToLocalLLM - Connected to Ollama 0.13.{n} at 127.0.0.1:11434",
            False,
            False,
        ]
        for n in range(5)
    ]


# -- opening the data folder ------------------------------------------------------------


@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="xdg-open is the Linux opener")
@pytest.mark.timeout(10)
def test_open_path_hands_the_folder_to_xdg_open(tmp_path, monkeypatch):
    bin_dir, folder, fifo = tmp_path / "bin", tmp_path / "my data", tmp_path / "opened"
    bin_dir.mkdir()
    folder.mkdir()
    os.mkfifo(fifo)
    fake = bin_dir / "xdg-open"
    fake.write_text(f'#!/bin/sh\nprintf "%s" "$1" > "{fifo}"\n')
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    open_path(folder)
    with open(fifo) as opened:  # blocks until the fake opener writes: no polling
        assert opened.read() == str(folder)


@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="xdg-open is the Linux opener")
def test_open_path_without_an_opener_raises_oserror(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(OSError):
        open_path(tmp_path)
