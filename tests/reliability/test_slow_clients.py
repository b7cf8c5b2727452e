"""Slow and broken clients: a request left half-sent is closed after the idle timeout, the
connection threads are bounded, an idle WebSocket is not cut, a bad handshake is a 400.

The server runs in process with a 2 s idle timeout (30 s in the app) so the waits are
short; every wait below is an upper bound for something that must happen, never a
measurement.
"""

from __future__ import annotations

import socket
import time

import pytest
import requests

from backend.core.settings import Settings, prepare_data_dir
from backend.launcher import server
from backend.launcher.runtime import Runtime
from tests.wsclient import WsClient

IDLE_S = 2.0
SLOTS = 8
GIVE_UP_S = 20.0  # far beyond IDLE_S: a connection still open by then was never timed out


@pytest.fixture
def app(monkeypatch, fake_ollama, data_dir):
    monkeypatch.setattr(server, "IDLE_TIMEOUT_S", IDLE_S)
    monkeypatch.setattr(server, "MAX_CONNECTIONS", SLOTS)
    settings = Settings(
        mode="headless", ollama_url=fake_ollama.url, data_dir=prepare_data_dir(data_dir)
    )
    runtime = Runtime(settings).start()
    yield runtime
    runtime.stop()


def connect(app) -> socket.socket:
    conn = socket.create_connection(("127.0.0.1", app.server.port))
    conn.settimeout(GIVE_UP_S)
    return conn


def read_until_closed(conn: socket.socket) -> bytes:
    """Everything the server sends until it closes; TimeoutError if it never does."""
    received = b""
    while piece := conn.recv(65536):
        received += piece
    return received


def health(app) -> int:
    headers = {"Authorization": f"Bearer {app.token}"}
    return requests.get(app.url + "api/health", headers=headers, timeout=GIVE_UP_S).status_code


def test_a_request_whose_headers_never_end_is_closed(app):
    conn = connect(app)
    conn.sendall(f"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1:{app.server.port}\r\n".encode())
    assert read_until_closed(conn) == b""
    conn.close()
    assert health(app) == 200


def test_a_request_whose_body_never_ends_is_closed(app):
    conn = connect(app)
    head = (
        f"POST /api/conversations HTTP/1.1\r\nHost: 127.0.0.1:{app.server.port}\r\n"
        f"Authorization: Bearer {app.token}\r\nContent-Type: application/json\r\n"
        'Content-Length: 100\r\n\r\n{"title": '
    )
    conn.sendall(head.encode())
    read_until_closed(conn)  # whatever it answers, it does not wait for the rest forever
    conn.close()
    assert health(app) == 200
    listed = requests.get(
        app.url + "api/conversations", headers={"Authorization": f"Bearer {app.token}"}
    ).json()
    assert listed["conversations"] == []


def test_connection_threads_are_bounded_and_come_back(app):
    idle = [connect(app) for _ in range(SLOTS)]
    extra = connect(app)
    extra.sendall(f"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1:{app.server.port}\r\n\r\n".encode())
    answer = read_until_closed(extra)
    assert answer.startswith(b"HTTP/1.1 503 ") and b'"server_busy"' in answer
    for conn in idle:  # the idle ones are timed out, and their threads freed
        assert read_until_closed(conn) == b""
        conn.close()
    assert health(app) == 200


def test_an_idle_websocket_outlives_the_http_idle_timeout(app):
    ws = WsClient(app.url.replace("http://", "ws://") + f"ws?token={app.token}")
    time.sleep(IDLE_S * 2)  # quiet, as a chat window is between questions
    ws.send({"type": "ping"})
    assert ws.recv() == {"type": "pong"}
    ws.close()


HANDSHAKE = {
    "Upgrade": "websocket",
    "Connection": "Upgrade",
    "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
    "Sec-WebSocket-Version": "13",
}


@pytest.mark.parametrize(
    "change",
    [
        {"Sec-WebSocket-Key": None},
        {"Sec-WebSocket-Key": "not base64!"},
        {"Sec-WebSocket-Key": "c2hvcnQ="},
        {"Upgrade": None},
        {"Connection": "keep-alive"},
    ],
    ids=["no_key", "key_not_base64", "key_not_16_bytes", "no_upgrade", "connection_no_upgrade"],
)
def test_a_broken_websocket_handshake_is_a_400_without_a_traceback(launch, change):
    running = launch()
    headers = {**HANDSHAKE, **change, "Authorization": f"Bearer {running.token}"}
    headers = {name: value for name, value in headers.items() if value is not None}
    response = requests.get(running.url + "ws", headers=headers, timeout=GIVE_UP_S)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "bad_handshake"
    assert running.get("api/health")["status"] == "ok"
    assert running.stop() == 0
    assert "Traceback" not in running.stderr() + running.logs()
