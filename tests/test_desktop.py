"""The real app in its native Qt window on Xvfb, each run in its own subprocess."""

from __future__ import annotations

import time

import pytest

from backend.core.store import Store
from tests.desktop_support import DesktopApp, Xvfb, have_desktop_tools
from tests.wsclient import WsClient

pytestmark = [
    pytest.mark.desktop,
    pytest.mark.skipif(not have_desktop_tools(), reason="needs Xvfb and ImageMagick"),
]


@pytest.fixture
def screen():
    xvfb = Xvfb()
    yield xvfb
    xvfb.stop()


def test_window_opens_connects_and_quits_cleanly(screen, fake_ollama, data_dir, tmp_path):
    app = DesktopApp(screen.display, "--ollama-url", fake_ollama.url, "--data-dir", str(data_dir))
    # The page in the window has loaded and opened its WebSocket; Ollama is connected.
    health = app.wait_for(
        lambda h: h["ui_connections"] >= 1 and h["connection"]["state"] == "connected"
    )
    assert health["connection"]["endpoint"] == fake_ollama.url
    time.sleep(1.0)  # the DOM updates before the screen repaints
    shot = screen.screenshot("desktop-window.png")
    assert shot.stat().st_size > 10_000

    # A reply in flight when the app is told to quit is kept, not lost.
    fake_ollama.token_delay = 0.05
    ws = WsClient(app.url.replace("http://", "ws://") + f"ws?token={app.ready['token']}")
    ws.send(
        {
            "type": "chat.send",
            "request_id": "q",
            "conversation_id": None,
            "content": "Tell me a long story",
            "model": "llama3.2",
        }
    )
    frames = ws.recv_until(lambda f: f["type"] == "chunk" and f["seq"] >= 3)
    message_id = frames[-1]["message_id"]
    assert app.quit() == 0
    # The web pages go before their profile (see release_qt_window): Qt has no complaint.
    assert "WebEnginePage still not deleted" not in app.proc.stderr.read()

    with Store(data_dir / "cloudtolocalllm.db") as store:
        reply = store.get_message(message_id)
    assert reply["status"] == "interrupted" and reply["content"].startswith("The sky")
    # The window's geometry is remembered for the next launch.
    assert (data_dir / "window.json").is_file()
