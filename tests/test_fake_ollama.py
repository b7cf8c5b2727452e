"""The fake itself: its bytes must match Ollama's, or every test built on it is wrong."""

from __future__ import annotations

import json
import re
import socket

import pytest
import requests

from tests.fake_ollama import DEFAULT_TOKENS, FakeOllama, go_json, now_rfc3339nano

RFC3339NANO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d*[1-9])?Z$")


def raw_exchange(fake: FakeOllama, body: bytes) -> bytes:
    """One HTTP/1.1 request over a bare socket, read to the end: the bytes on the wire."""
    request = (
        b"POST /api/chat HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%b" % (len(body), body)
    )
    with socket.create_connection(("127.0.0.1", fake.port)) as conn:
        conn.sendall(request)
        received = b""
        while data := conn.recv(65536):
            received += data
    return received


def test_stream_is_chunked_ndjson_with_go_escaping(fake: FakeOllama) -> None:
    fake.tokens = ["a <b> & c", "é"]
    wire = raw_exchange(fake, b'{"model":"llama3.2","messages":[]}')
    head, _, body = wire.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"Content-Type: application/x-ndjson\r\n" in head
    assert b"Transfer-Encoding: chunked" in head
    assert body.endswith(b"0\r\n\r\n")
    assert b'"content":"a \\u003cb\\u003e \\u0026 c"},"done":false}\n' in body
    assert '"content":"é"'.encode() in body


def test_every_line_is_compact_json_with_a_current_timestamp(fake: FakeOllama) -> None:
    before = now_rfc3339nano()
    response = requests.post(fake.url + "/api/chat", json={"model": "llama3.2", "messages": []})
    lines = response.content.splitlines()
    assert len(lines) == len(DEFAULT_TOKENS) + 1
    for line in lines:
        obj = json.loads(line)
        assert line == go_json(obj)  # compact, Go's escaping, nothing but JSON
        assert RFC3339NANO_UTC.match(obj["created_at"])
        assert obj["created_at"][:19] >= before[:19]
    final = json.loads(lines[-1])
    assert list(final)[4:] == [
        "done_reason",
        "total_duration",
        "load_duration",
        "prompt_eval_count",
        "prompt_eval_duration",
        "eval_count",
        "eval_duration",
    ]


def test_errors_are_worded_like_ollama(fake: FakeOllama) -> None:
    missing = requests.post(fake.url + "/api/chat", json={"model": "x", "messages": []})
    assert (missing.status_code, missing.text) == (404, '{"error":"model \'x\' not found"}')
    bad = requests.post(fake.url + "/api/chat", data=b"{nope")
    assert bad.status_code == 400
    assert "invalid character" in bad.json()["error"]
    assert requests.post(fake.url + "/api/chat", data=b"").json() == {
        "error": "missing request body"
    }


def test_records_requests_in_order(fake: FakeOllama) -> None:
    requests.get(fake.url + "/api/version")
    requests.post(fake.url + "/api/chat", json={"model": "llama3.2", "messages": []})
    assert [(r["method"], r["path"]) for r in fake.requests] == [
        ("GET", "/api/version"),
        ("POST", "/api/chat"),
    ]
    assert fake.chat_requests == [{"model": "llama3.2", "messages": []}]


def test_stop_refuses_and_start_reuses_the_port() -> None:
    fake = FakeOllama().start()
    port = fake.port
    session = requests.Session()
    assert session.get(fake.url + "/api/version").ok
    fake.stop()
    with pytest.raises(requests.ConnectionError):
        session.get(fake.url + "/api/version", timeout=2)
    fake.start()
    try:
        assert fake.port == port
        assert session.get(fake.url + "/api/version").json() == {"version": "0.13.0"}
    finally:
        fake.stop()


def test_pull_installs_and_delete_removes(fake: FakeOllama) -> None:
    lines = requests.post(fake.url + "/api/pull", json={"model": "gemma3:4b"}).content
    assert json.loads(lines.splitlines()[-1]) == {"status": "success"}
    assert fake.find_model("gemma3:4b") is not None
    gone = requests.delete(fake.url + "/api/delete", json={"model": "gemma3:4b"})
    assert gone.status_code == 200
    assert fake.find_model("gemma3:4b") is None
    again = requests.delete(fake.url + "/api/delete", json={"model": "gemma3:4b"})
    assert again.status_code == 404
