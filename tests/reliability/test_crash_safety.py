"""Item 1: `kill -9` the app mid-reply; nothing the user could have seen long ago is lost."""

from __future__ import annotations

import os
import signal
import time

import simple_websocket

from tests.reliability.support import (
    MODEL,
    chat_send,
    collect_replies,
    peek_db,
    token_text,
    wait_until,
)

# The app stores a streaming reply at most every 250 ms. What the client held this long
# before the kill must be on disk: the batch interval plus room for one write and the
# scheduling of a loaded 2-core machine.
STORED_WITHIN_S = 0.5


def drain(ws) -> list[tuple[float, dict]]:
    """Frames still in flight after the kill, until the socket closes."""
    frames = []
    while True:
        try:
            frames.append((time.monotonic(), ws.recv(5, skip=("status",))))
        except (simple_websocket.ConnectionClosed, TimeoutError):
            return frames


def test_kill_9_mid_reply_keeps_the_text_up_to_the_last_batch(launch, fake_ollama, data_dir):
    fake_ollama.token_count, fake_ollama.token_delay = 400, 0.01
    app = launch()
    ws = app.ws()
    chat_send(ws, "Tell me a long story")
    received: list[tuple[float, dict]] = []
    while sum(f["type"] == "chunk" for _, f in received) < 100:  # about a second of tokens
        received.append((time.monotonic(), ws.recv()))
    killed_at = time.monotonic()
    os.kill(app.proc.pid, signal.SIGKILL)
    app.proc.wait(10)
    received += drain(ws)
    start = received[0][1]
    assert start["type"] == "start"
    db = data_dir / "cloudtolocalllm.db"
    assert peek_db(db, "PRAGMA integrity_check") == [("ok",)]

    again = launch()
    user, reply = again.conversation(start["conversation_id"])["messages"]
    assert (user["role"], user["content"], user["status"]) == (
        "user",
        "Tell me a long story",
        "complete",
    )
    assert reply["id"] == start["message_id"] and reply["status"] == "interrupted"
    assert token_text(400).startswith(reply["content"]) and reply["content"]
    held_long_before = "".join(
        f.get("delta", "") for t, f in received if t <= killed_at - STORED_WITHIN_S
    )
    assert reply["content"].startswith(held_long_before)
    # The partial reply is a normal message: it can be regenerated at once.
    fake_ollama.token_delay = 0.0
    ws2 = again.ws()
    ws2.send({"type": "chat.regenerate", "request_id": "again", "message_id": reply["id"]})
    (frames,) = collect_replies(ws2, 1).values()
    assert frames[-1]["type"] == "complete" and frames[-1]["content"] == token_text(400)


def test_users_message_is_on_disk_before_ollama_is_asked(launch, fake_ollama, data_dir):
    fake_ollama.first_token_delay = 30.0  # Ollama "loading the model": no token comes
    app = launch()
    ws = app.ws()
    chat_send(ws, "Never lose me")
    wait_until(lambda: fake_ollama.chat_requests, what="the chat request to reach Ollama")
    # Ollama has the request: the user's message was committed before it was made.
    db = data_dir / "cloudtolocalllm.db"
    rows = peek_db(db, "SELECT role, content, status FROM messages ORDER BY rowid")
    assert rows[0] == ("user", "Never lose me", "complete")
    assert rows[1][0] == "assistant" and rows[1][2] == "streaming"
    app.kill9()

    again = launch()
    (listed,) = again.get("api/conversations")["conversations"]
    user, reply = again.conversation(listed["id"])["messages"]
    assert (user["content"], user["status"]) == ("Never lose me", "complete")
    assert (reply["status"], reply["content"], reply["model"]) == ("interrupted", "", MODEL)
