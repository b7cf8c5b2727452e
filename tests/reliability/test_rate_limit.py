"""Item 5, limits: a bounded rate of frames per socket; over it a frame is dropped with a
`rate_limited` error and the socket is kept."""

from __future__ import annotations

import pytest
from flask import Flask
from flask_sock import Sock

from backend.core.services import build_services
from backend.core.settings import Settings, prepare_data_dir
from backend.launcher.server import ServerThread
from backend.web.ws import FRAME_BURST, ClientSocket, TokenBucket
from tests.reliability.support import wait_until
from tests.wsclient import WsClient


class Clock:
    """Time that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_token_bucket_allows_a_burst_then_the_rate():
    clock = Clock()
    bucket = TokenBucket(rate=10.0, burst=3, clock=clock)
    assert [bucket.take() for _ in range(5)] == [True, True, True, False, False]
    clock.now += 0.1  # one token's worth
    assert [bucket.take() for _ in range(2)] == [True, False]
    clock.now += 60  # a long pause saves up no more than the burst
    assert sum(bucket.take() for _ in range(10)) == 3
    with pytest.raises(ValueError):
        TokenBucket(rate=0, burst=1)


@pytest.fixture
def limited(fake_ollama, data_dir):
    """A real server whose sockets may send 5 frames, then 1 a second, on a test clock."""
    settings = Settings(ollama_url=fake_ollama.url, data_dir=prepare_data_dir(data_dir))
    services = build_services(settings, start_monitor=False)
    clock = Clock()
    app = Flask(__name__)

    @Sock(app).route("/ws")
    def websocket(ws):
        ClientSocket(ws, services, frame_rate=1.0, frame_burst=5, clock=clock).serve()

    server = ServerThread(app, "127.0.0.1", 0).start()
    client = WsClient(server.url.replace("http://", "ws://") + "ws")
    assert client.recv(skip=())["type"] == "status"
    yield client, clock
    client.close()
    server.stop()
    services.close()


def test_frames_over_the_rate_are_dropped_with_an_error_and_the_socket_is_kept(limited):
    ws, clock = limited
    for _ in range(8):
        ws.send({"type": "ping"})
    answers = [ws.recv() for _ in range(8)]
    assert answers[:5] == [{"type": "pong"}] * 5
    for error in answers[5:]:
        assert error["type"] == "error" and error["code"] == "rate_limited"
        assert "dropped" in error["message"]
    clock.now += 2.0  # two frames' worth of time
    ws.send({"type": "ping"})
    ws.send({"type": "chat.send", "request_id": "kept", "conversation_id": None, "content": "x"})
    ws.send({"type": "chat.send", "request_id": "dropped", "conversation_id": None})
    assert ws.recv() == {"type": "pong"}
    # The second token lets a reply start (its `start` comes from another thread, so it may
    # follow the third frame's error); the third frame is dropped, its request_id named.
    answers = {}
    while len(answers) < 2:
        frame = ws.recv()
        if frame.get("request_id") in ("kept", "dropped"):
            answers.setdefault(frame["request_id"], frame)
    assert answers["kept"]["type"] == "start"
    assert (answers["dropped"]["type"], answers["dropped"]["code"]) == ("error", "rate_limited")


def test_the_app_limits_a_flood_of_frames_and_serves_the_socket_on(launch):
    app = launch()
    ws = app.ws()
    flood = 5 * FRAME_BURST
    for _ in range(flood):
        ws.send({"type": "ping"})
    answers = [ws.recv()["type"] for _ in range(flood)]
    limited = answers.count("error")
    assert limited > 0 and answers.count("pong") + limited == flood
    assert app.get("api/health")["ui_connections"] == 1  # the same socket, still open

    def answered() -> bool:
        ws.send({"type": "ping"})
        return ws.recv()["type"] == "pong"

    wait_until(answered, 5, "the socket's rate to allow a frame again")
