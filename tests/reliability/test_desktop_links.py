"""Item 6, links: in the native window a link in a reply opens in the system browser, never
inside the app's window. The real desktop app runs on Xvfb; the test clicks through
QtWebEngine's DevTools protocol (a trusted mouse event) and `$BROWSER` records the hand-off."""

from __future__ import annotations

import json
import socket
import time

import pytest
import requests
import simple_websocket

from tests.desktop_support import DesktopApp, Xvfb, have_desktop_tools
from tests.reliability.support import wait_until

pytestmark = [
    pytest.mark.desktop,
    pytest.mark.skipif(not have_desktop_tools(), reason="needs Xvfb and ImageMagick"),
]

LINK = "https://example.org/docs"
FIRST_LINK = "[data-role=assistant][data-status=complete] a[href]"


class DevTools:
    """A page's DevTools socket: enough of the protocol to evaluate and to click."""

    def __init__(self, url: str) -> None:
        self.ws = simple_websocket.Client.connect(url)
        self.calls = 0

    def call(self, method: str, **params) -> dict:
        self.calls += 1
        self.ws.send(json.dumps({"id": self.calls, "method": method, "params": params}))
        while True:  # events come in between: skip them
            message = json.loads(self.ws.receive(10))
            if message.get("id") == self.calls:
                assert "error" not in message, message
                return message["result"]

    def js(self, expression: str):
        found = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return found["result"].get("value")

    def click(self, x: float, y: float) -> None:
        for kind in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)

    def close(self) -> None:
        self.ws.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_link_in_a_reply_opens_in_the_system_browser(
    fake_ollama, data_dir, tmp_path, monkeypatch
):
    fake_ollama.tokens = ["See ", f"[the docs]({LINK})", " for more."]
    opened = tmp_path / "browser.log"
    debug_port = free_port()
    monkeypatch.setenv("QTWEBENGINE_REMOTE_DEBUGGING", f"127.0.0.1:{debug_port}")
    monkeypatch.setenv("BROWSER", f"sh -c 'echo %s >> {opened}'")  # the "system browser"
    screen = Xvfb()
    app = DesktopApp(screen.display, "--ollama-url", fake_ollama.url, "--data-dir", str(data_dir))
    try:
        app.wait_for(lambda health: health["ui_connections"] >= 1)
        targets = requests.get(f"http://127.0.0.1:{debug_port}/json", timeout=5).json()
        page = DevTools(next(t for t in targets if t["type"] == "page")["webSocketDebuggerUrl"])
        app_url = page.js("location.href")
        page.js(
            "(() => { const box = document.getElementById('composer-input');"
            " box.value = 'a link please'; box.dispatchEvent(new Event('input'));"
            " document.getElementById('composer').requestSubmit(); })()"
        )
        wait_until(lambda: page.js(f"!!document.querySelector('{FIRST_LINK}')"), 15, "the link")
        x, y = page.js(
            f"(() => {{ const r = document.querySelector('{FIRST_LINK}')"
            ".getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()"
        )
        page.click(x, y)
        wait_until(opened.exists, 10, "the system browser to be asked")
        time.sleep(0.5)  # had the window navigated too, it would have by now
        assert opened.read_text().split() == [LINK]
        # Still the app's page (sending gave the new chat its address, #/c/<id>).
        assert page.js("location.href").split("#")[0] == app_url.split("#")[0]
        assert page.js("location.hash").startswith("#/c/")
        assert page.js("document.body.dataset.ws") == "open"
        page.close()
    finally:
        assert app.quit() == 0
        screen.stop()
