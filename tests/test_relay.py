"""The relay as a real process: its page and health, desktop authentication, routing, limits."""

from __future__ import annotations

import json
import os
import re
import signal
import sys

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from websockets.exceptions import ConnectionClosed

from tests.app_process import REPO, start_until_ready_line
from tests.relay_process import RawDesktop, RawDevice, carry_both_ways


def closed_code(ws) -> int:
    with pytest.raises(ConnectionClosed):
        while True:
            ws.recv(10)
    return ws.protocol.close_rcvd.code


def test_ready_line_page_health_metrics_and_sigterm(relay):
    process = relay()
    assert process.ready["event"] == "ready"
    assert process.url == f"http://127.0.0.1:{process.ready['port']}/"
    page = requests.get(process.url, timeout=10)
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert '<link rel="manifest" href="/manifest.webmanifest"' in page.text
    manifest = requests.get(process.url + "manifest.webmanifest", timeout=10)
    assert manifest.headers["Content-Type"] == "application/manifest+json"
    for icon in manifest.json()["icons"]:
        image = requests.get(process.url + icon["src"].lstrip("/"), timeout=10)
        assert image.headers["Content-Type"] == "image/png" and image.content[:4] == b"\x89PNG"
    assert requests.get(process.url + "healthz", timeout=10).json() == {"status": "ok"}
    metrics = requests.get(process.url + "metrics", timeout=10).text
    assert "relay_desktops_online 0" in metrics and "# TYPE relay_frames_total counter" in metrics
    assert requests.get(process.url + "../etc/passwd", timeout=10).status_code == 404
    assert process.stop() == 0


def test_the_desktop_ui_is_served_under_app_with_its_own_policy(relay):
    process = relay()
    page = requests.get(process.url + "app/", timeout=10)
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    assert page.content == (REPO / "frontend" / "index.html").read_bytes()
    policy = page.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy and "script-src 'self';" in policy
    pick = requests.get(process.url + "app/js/transport/pick.js", timeout=10)
    assert pick.headers["Content-Type"].startswith("text/javascript")
    assert "TunnelTransport" in pick.text
    for outside in ("app/../relay.log", "app/%2e%2e/pyproject.toml", "app/js/"):
        assert requests.get(process.url + outside, timeout=10).status_code == 404
    assert process.stop() == 0


def test_desktop_proves_its_id_and_a_wrong_signature_is_refused(relay):
    process = relay()
    honest = RawDesktop(process)
    assert honest.authenticate() == {"type": "welcome"}
    impostor = RawDesktop(process, key=honest.key)  # claims the id...
    assert closed_code_after_auth(impostor, sign_with=Ed25519PrivateKey.generate()) == 4401
    metrics = requests.get(process.url + "metrics", timeout=10).text
    assert "relay_auth_failures_total 1" in metrics and "relay_desktops_online 1" in metrics


def closed_code_after_auth(desktop: RawDesktop, **kwargs) -> int:
    try:
        desktop.authenticate(**kwargs)
    except ConnectionClosed:
        return desktop.ws.protocol.close_rcvd.code
    return closed_code(desktop.ws)


def test_frames_route_both_ways_and_devices_hear_the_desktop_state(relay):
    process = relay()
    desktop = RawDesktop(process)
    device = RawDevice(process, desktop.id)
    assert device.recv() == {"type": "desktop", "state": "offline"}
    desktop.authenticate()
    assert device.recv() == {"type": "desktop", "state": "online"}
    carry_both_ways(desktop, device, up="b3BhcXVl", down="cmVwbHk")
    desktop.ws.close()
    assert device.recv() == {"type": "desktop", "state": "offline"}


def test_a_second_desktop_login_replaces_the_first(relay):
    process = relay()
    first = RawDesktop(process)
    first.authenticate()
    second = RawDesktop(process, key=first.key)
    second.authenticate()
    assert closed_code(first.ws) == 4409
    device = RawDevice(process, second.id)
    assert device.recv() == {"type": "desktop", "state": "online"}
    conn = second.recv()["conn"]
    device.ws.close()
    assert second.recv() == {"type": "close", "conn": conn}


def desktop_with_device(process) -> tuple[RawDesktop, RawDevice, str]:
    """An authenticated desktop, a device connected to it, and the device's `conn`."""
    desktop = RawDesktop(process)
    desktop.authenticate()
    device = RawDevice(process, desktop.id)
    assert device.recv() == {"type": "desktop", "state": "online"}
    return desktop, device, desktop.recv()["conn"]


def test_the_desktop_can_end_a_device_connection(relay):
    desktop, device, conn = desktop_with_device(relay())
    desktop.send({"type": "close", "conn": conn})
    assert closed_code(device.ws) == 4000


def test_limits_frame_size_rate_and_devices_per_desktop(relay):
    process = relay(
        "--max-frame-bytes", "4096", "--frame-rate", "1", "--frame-burst", "3", "--max-devices", "2"
    )
    desktop = RawDesktop(process)
    desktop.authenticate()
    big = RawDevice(process, desktop.id)
    big.send_data("x" * 5000)
    assert closed_code(big.ws) == 1009
    chatty = RawDevice(process, desktop.id)
    for _ in range(10):
        chatty.send_data("y")
    assert closed_code(chatty.ws) == 4408
    kept = [RawDevice(process, desktop.id) for _ in range(2)]
    assert all(d.recv()["state"] == "online" for d in kept)
    assert closed_code(RawDevice(process, desktop.id).ws) == 4429
    metrics = requests.get(process.url + "metrics", timeout=10).text
    assert 'relay_closed_by_limit_total{reason="rate"} 1' in metrics
    assert 'relay_closed_by_limit_total{reason="devices"} 1' in metrics


def test_unknown_routes_are_closed(relay):
    process = relay()
    device = RawDevice(process, "not-a-key")
    assert closed_code(device.ws) == 4404


def test_logs_are_structured_and_hold_no_frame_content(relay):
    process = relay()
    desktop, device, conn = desktop_with_device(process)
    device.send_data("SECRETPAYLOADFROMDEVICE")
    desktop.recv()
    desktop.send({"type": "data", "conn": conn, "data": "SECRETPAYLOADFROMDESKTOP"})
    device.recv()
    device.ws.close()
    assert process.stop() == 0
    log = process.log()
    assert "SECRETPAYLOAD" not in log and desktop.id not in log
    events = [json.loads(line)["event"] for line in log.splitlines()]
    assert {"desktop_online", "device_connected", "device_disconnected"} <= set(events)
    assert all(re.fullmatch(r"[a-z_]+", event) for event in events)


def test_the_relay_runs_without_the_desktop_or_gui_packages(tmp_path):
    """Imports of the desktop app, Flask and every GUI toolkit fail; the relay serves anyway."""
    blocked = ["backend", "flask", "flask_sock", "webview", "PyQt6", "PySide6", "pystray", "PIL"]
    code = (
        "import sys, runpy\n"
        f"for name in {blocked!r}: sys.modules[name] = None\n"
        "runpy.run_module('cloudtolocalllm_relay', run_name='__main__')\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO / "relay")}
    proc, line = start_until_ready_line(
        [sys.executable, "-c", code], env, tmp_path / "relay.log", 20
    )
    try:
        assert json.loads(line)["event"] == "ready", (tmp_path / "relay.log").read_text()
        assert requests.get(json.loads(line)["url"] + "healthz", timeout=10).status_code == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
