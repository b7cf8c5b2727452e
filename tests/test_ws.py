"""The WebSocket endpoint on a real server thread with a real client."""

from __future__ import annotations

import json
import time

import pytest
import simple_websocket

from tests.fake_ollama import DEFAULT_TOKENS
from tests.wsclient import WsClient


def ws_url(runtime, token: str | None = None) -> str:
    base = runtime.url.replace("http://", "ws://") + "ws"
    return f"{base}?token={token if token is not None else runtime.token}"


@pytest.fixture
def ws(runtime):
    client = WsClient(ws_url(runtime))
    assert client.recv(skip=())["type"] == "status"
    yield client
    client.close()


def send(ws, content="hello", **extra):
    ws.send(
        {
            "type": "chat.send",
            "request_id": "r",
            "conversation_id": None,
            "content": content,
            "model": "llama3.2",
            **extra,
        }
    )


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("not json", "invalid_json"),
        ("[1, 2]", "invalid_json"),
        ('{"no": "type"}', "missing_field"),
        ('{"type": "fly"}', "unknown_type"),
        ('{"type": "chat.send", "request_id": "r", "conversation_id": null}', "missing_field"),
        (
            '{"type": "chat.send", "request_id": "r", "conversation_id": null, "content": 5}',
            "invalid_field",
        ),
        (
            '{"type": "chat.send", "request_id": 7, "conversation_id": null, "content": "x"}',
            "invalid_field",
        ),
        (
            '{"type": "chat.send", "request_id": "r", "conversation_id": "nope", "content": "x"}',
            "not_found",
        ),
        (
            '{"type": "chat.send", "request_id": "r", "conversation_id": null, "content": "x",'
            ' "model": "ghost"}',
            "model_not_found",
        ),
        (
            '{"type": "chat.send", "request_id": "r", "conversation_id": null, "content": "x",'
            ' "options": []}',
            "invalid_field",
        ),
        ('{"type": "chat.cancel", "message_id": "nope"}', "not_found"),
    ],
)
def test_bad_frames_get_an_error_and_the_socket_stays_open(ws, frame, code):
    ws.send(frame)
    error = ws.recv()
    assert error["type"] == "error" and error["code"] == code and error["message"]
    ws.send({"type": "ping"})
    assert ws.recv() == {"type": "pong"}


def test_content_over_one_mib_is_refused(ws, runtime):
    send(ws, "é" * (512 * 1024 + 1))  # 1 MiB + 2 bytes of UTF-8
    error = ws.recv()
    assert error["code"] == "content_too_large" and error["request_id"] == "r"
    assert runtime.services.store.list_conversations() == []


def test_reply_frames_follow_the_contract(ws):
    send(ws)
    frames = ws.reply()
    start, final = frames[0], frames[-1]
    assert set(start) >= {
        "type",
        "request_id",
        "conversation_id",
        "user_message_id",
        "message_id",
        "model",
        "seq",
    }
    assert all(f["message_id"] == start["message_id"] for f in frames)
    assert [f["seq"] for f in frames] == list(range(len(frames)))
    assert set(final["stats"]) >= {
        "eval_count",
        "prompt_eval_count",
        "total_duration_ms",
        "eval_duration_ms",
        "tokens_per_second",
    }
    assert final["content"] == "".join(DEFAULT_TOKENS)


def test_mid_stream_error_frame_carries_the_partial_text(ws, runtime, fake_ollama):
    fake_ollama.error_after = 4
    send(ws)
    final = ws.reply()[-1]
    assert final["type"] == "error" and final["content"] == "".join(DEFAULT_TOKENS[:4])
    stored = runtime.services.store.get_message(final["message_id"])
    assert (stored["status"], stored["content"]) == ("error", final["content"])


def test_cancel_over_the_socket(ws, runtime, fake_ollama):
    fake_ollama.token_delay = 0.05
    send(ws)
    start = ws.recv_until(lambda f: f["type"] == "start")[-1]
    ws.send({"type": "chat.cancel", "message_id": start["message_id"]})
    final = ws.reply()[-1]
    assert final["type"] == "cancelled"
    assert runtime.services.store.get_message(start["message_id"])["status"] == "cancelled"


def test_a_reply_outlives_its_socket(runtime, fake_ollama):
    fake_ollama.token_delay = 0.01
    client = WsClient(ws_url(runtime))
    client.recv(skip=())
    send(client)
    start = client.recv_until(lambda f: f["type"] == "start")[-1]
    client.close()
    reply = next(r for r in runtime.services.chat.active() if r.message_id == start["message_id"])
    assert reply.finished.wait(10)
    stored = runtime.services.store.get_message(start["message_id"])
    assert stored["status"] == "complete" and stored["content"] == "".join(DEFAULT_TOKENS)


def test_several_sockets_stream_at_once(runtime, fake_ollama):
    fake_ollama.token_delay = 0.005
    clients = [WsClient(ws_url(runtime)) for _ in range(3)]
    for i, client in enumerate(clients):
        client.recv(skip=())
        send(client, f"question {i}")
    for client in clients:
        assert client.reply()[-1]["type"] == "complete"
        client.close()
    assert len(runtime.services.store.list_conversations()) == 3


def test_the_socket_needs_the_token(runtime):
    for token in ("", "wrong"):
        with pytest.raises(simple_websocket.ConnectionError) as caught:
            WsClient(ws_url(runtime, token))
        assert caught.value.status_code == 401


def test_a_foreign_origin_cannot_open_the_socket(runtime):
    with pytest.raises(simple_websocket.ConnectionError) as caught:
        WsClient(ws_url(runtime), headers={"Origin": "http://evil.example"})
    assert caught.value.status_code == 403
    own = WsClient(ws_url(runtime), headers={"Origin": runtime.url.rstrip("/")})
    assert own.recv(skip=())["type"] == "status"
    own.close()


def test_conversation_events_come_only_when_asked_for(ws, runtime):
    send(ws, "first")
    assert all("seq" in f for f in ws.reply())  # nothing but the reply's frames
    ws.send({"type": "subscribe", "events": ["conversations"]})
    send(ws, "second")
    frames = ws.recv_until(lambda f: f["type"] == "conversation.created")
    created = frames[-1]["conversation"]
    assert created["title"] == "second"
    ws.send({"type": "subscribe", "events": ["everything"]})
    assert ws.recv_until(lambda f: f["type"] == "error")[-1]["code"] == "invalid_field"


class _SlowFirstRead:
    """A socket whose first read waits, so the handshake's answer and the first frame
    arrive together, as they do on a busy machine."""

    def __init__(self, sock):
        self._sock, self._first = sock, True

    def recv(self, size):
        if self._first:
            self._first = False
            time.sleep(0.3)
        return self._sock.recv(size)

    def __getattr__(self, name):
        return getattr(self._sock, name)


class _SlowClient(simple_websocket.Client):
    def handshake(self):
        self.sock = _SlowFirstRead(self.sock)
        super().handshake()


def test_a_client_that_reads_late_still_gets_the_first_status_frame(runtime):
    # simple-websocket leaves a frame that came with the handshake's answer unread until
    # more data arrives; the server's unsolicited pongs after connecting bring it out.
    client = _SlowClient.connect(ws_url(runtime))
    try:
        frame = client.receive(timeout=5)
        assert frame is not None and json.loads(frame)["type"] == "status"
    finally:
        client.close()
