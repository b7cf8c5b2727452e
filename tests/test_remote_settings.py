"""Remote access's setting and state without a relay: off by default, a bad relay URL
refused, pairing refused while off; the tunnel socket's resume window."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta

import requests

from backend.core.remote.tunnel import TunnelSocket
from tests.remote_fixtures import wait_for_state


def call(rt, method: str, path: str, **kwargs) -> requests.Response:
    headers = {"Authorization": f"Bearer {rt.token}"}
    return requests.request(method, rt.url + path, headers=headers, timeout=10, **kwargs)


def test_off_until_a_relay_is_set_then_on_and_off_again(runtime, relay):
    status = call(runtime, "GET", "api/remote").json()
    assert (status["relay_url"], status["state"]) == (None, "off")
    refused = call(runtime, "POST", "api/remote/pairings")
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "remote_off"
    for method, path in (("POST", "nope/approve"), ("DELETE", "nope")):
        unknown = call(runtime, method, f"api/remote/devices/{path}")
        assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"
    bad = call(runtime, "PATCH", "api/remote", json={"relay_url": "ftp://example.org"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_setting"

    process = relay()
    ws_url = process.url.replace("http://", "ws://")
    answer = call(runtime, "PATCH", "api/remote", json={"relay_url": ws_url})
    assert answer.json()["relay_url"] == process.url.rstrip("/")  # kept as the page's address
    wait_for_state(runtime.remote, "online")
    offer = call(runtime, "POST", "api/remote/pairings").json()
    expires = datetime.fromisoformat(offer["expires_at"].replace("Z", "+00:00"))
    assert timedelta(0) < expires - datetime.now(UTC) <= timedelta(minutes=10)

    assert call(runtime, "PATCH", "api/remote", json={"relay_url": None}).json()["state"] == "off"
    assert call(runtime, "GET", "api/remote").json()["relay_url"] is None


def test_a_bad_relay_url_on_the_command_line_is_a_usage_error():
    result = subprocess.run(
        [sys.executable, "-m", "backend", "--headless", "--relay-url", "mailto:me"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().endswith("relay_url must be an http(s) or ws(s) URL")
    assert "Traceback" not in result.stderr


class Sockets:
    """A dispatcher whose sockets are driven by the test: `emit` is the app sending."""

    def open_socket(self, send):
        self.emit = send
        return self

    def deliver(self, text: str) -> None:
        pass

    def close(self) -> None:
        self.closed = True


def test_a_device_resumes_only_while_every_frame_after_its_last_is_kept(monkeypatch):
    monkeypatch.setattr("backend.core.remote.tunnel.MAX_BUFFERED_FRAMES", 5)
    sockets = Sockets()
    tunnel = TunnelSocket(sockets)
    got: list[int] = []
    sink = lambda frame: got.append(frame["index"]) or True  # noqa: E731
    assert tunnel.attach(sink, None)
    for n in range(3):
        sockets.emit(f"frame {n}")
    tunnel.detach(sink)
    for n in range(3, 6):
        sockets.emit(f"frame {n}")  # while the device is away
    assert tunnel.attach(sink, 2)
    assert got == [0, 1, 2, 3, 4, 5]
    tunnel.detach(sink)
    for n in range(6, 12):
        sockets.emit(f"frame {n}")  # more than are kept
    assert not tunnel.attach(sink, 5)
    assert tunnel.attach(sink, 6)  # from what is still kept
    assert got[6:] == [7, 8, 9, 10, 11]
    tunnel.close()
    assert sockets.closed and not sockets.emit("after")
