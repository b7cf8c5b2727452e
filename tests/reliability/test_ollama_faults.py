"""Item 2: Ollama fails in every way it can; the app says so, stores it, and carries on."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from tests.fake_ollama import STREAM_ERROR, FakeOllama
from tests.reliability.support import (
    assert_reply_well_formed,
    chat_send,
    collect_replies,
    token_text,
    wait_until,
)

OTHER_TOKENS = 60  # the reply that must stream on, undisturbed, beside the failing one


@dataclass(frozen=True)
class Fault:
    name: str
    switches: dict = field(default_factory=dict)
    code: str = ""
    says: str = ""  # words the user's message must contain
    kept: int = 0  # tokens of the reply received (and stored) before the fault


FAULTS = [
    Fault("model_deleted_404", {"http_error": (404, "model 'llama3.2' not found")},
          "model_not_found", "not found"),
    Fault("http_500", {"http_error": (500, "llama runner process has terminated")},
          "ollama_error", "llama runner process has terminated"),
    Fault("http_503", {"http_error": (503, "server busy, please try again")},
          "ollama_busy", "server busy"),
    Fault("error_line_mid_stream", {"error_after": 5}, "ollama_stream_error",
          STREAM_ERROR, kept=5),
    Fault("socket_cut_mid_stream", {"cut_after": 5}, "ollama_unavailable", "Ollama", kept=5),
    Fault("malformed_line", {"malformed_after": 5}, "ollama_protocol_error", "Ollama", kept=5),
    Fault("no_done_line", {"omit_done": True}, "ollama_protocol_error", "Ollama",
          kept=len(token_text(8).split())),
]  # fmt: skip


def arm(fake: FakeOllama, switches: dict) -> None:
    for name, value in switches.items():
        setattr(fake, name, value)


def disarm(fake: FakeOllama) -> None:
    fake.http_error = fake.error_after = fake.cut_after = fake.malformed_after = None
    fake.omit_done = False


def monitor_nudged_after(fake: FakeOllama, failed_chat: int) -> bool:
    """A check the monitor makes on request: /api/version then a model refresh (/api/tags).

    A routine heartbeat asks /api/version alone (the models only every 12th beat), and no
    send follows the failure here, so /api/tags after /api/version means a nudge.
    """
    later = [(r["method"], r["path"]) for r in fake.requests[failed_chat + 1 :]]
    if ("GET", "/api/version") not in later:
        return False
    return ("GET", "/api/tags") in later[later.index(("GET", "/api/version")) :]


def assert_clear(message: str) -> None:
    """A sentence for a person: no traceback, no repr of an exception, not a wall of text."""
    assert message and len(message) < 300
    assert "Traceback" not in message and "Error(" not in message and "<" not in message
    assert "b'" not in message and "\\x" not in message, message  # no Python reprs


def state(app) -> str:
    return app.get("api/status")["state"]


def chat_index(fake: FakeOllama, content: str) -> int:
    def find():
        for i, r in enumerate(fake.requests):
            messages = (r["json"] or {}).get("messages") if r["path"] == "/api/chat" else None
            if messages and messages[-1]["content"] == content:
                return i + 1
        return 0

    return wait_until(find, what=f"Ollama to be asked {content!r}") - 1


@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f.name)
def test_a_fault_fails_one_reply_clearly_and_disturbs_nothing_else(launch, fake_ollama, fault):
    app = launch()
    healthy, faulty = app.ws(), app.ws()
    fake_ollama.token_count, fake_ollama.token_delay = OTHER_TOKENS, 0.02
    chat_send(healthy, "keep streaming")
    # A chunk: its request has reached Ollama, whose reply to it is fixed from now on.
    seen = healthy.recv_until(lambda f: f["type"] == "chunk")
    fake_ollama.token_count, fake_ollama.token_delay = 8, 0.0
    arm(fake_ollama, fault.switches)
    chat_send(faulty, "this one fails")
    (frames,) = collect_replies(faulty, 1).values()
    failed_chat = chat_index(fake_ollama, "this one fails")
    disarm(fake_ollama)

    assert_reply_well_formed(frames)
    final = frames[-1]
    assert (final["type"], final["code"]) == ("error", fault.code)
    assert fault.says.lower() in final["message"].lower()
    assert_clear(final["message"])
    assert final["content"] == token_text(8)[: len(token_text(fault.kept))]
    user, reply = app.conversation(frames[0]["conversation_id"])["messages"]
    assert (user["content"], user["status"]) == ("this one fails", "complete")
    assert (reply["status"], reply["error"], reply["content"]) == (
        "error",
        final["message"],
        final["content"],
    )
    wait_until(lambda: monitor_nudged_after(fake_ollama, failed_chat), 3, "a monitor nudge")

    (other,) = collect_replies(healthy, 1, already=seen).values()
    assert_reply_well_formed(other)
    assert other[-1]["type"] == "complete" and other[-1]["content"] == token_text(OTHER_TOKENS)
    # The socket that saw the failure is as good as new.
    chat_send(faulty, "and again", frames[0]["conversation_id"])
    (retry,) = collect_replies(faulty, 1).values()
    assert retry[-1]["type"] == "complete"


def test_refused_at_send_stores_the_message_and_recovers(launch, fake_ollama):
    app = launch()
    ws = app.ws()
    fake_ollama.stop()  # nothing listens on Ollama's port now: connections are refused
    chat_send(ws, "anyone there?")
    frames = ws.recv_until(lambda f: f["type"] == "error" and "message_id" in f)
    statuses = [f for f in frames if f["type"] == "status"]
    error = frames[-1]
    assert error["code"] == "ollama_unavailable" and "isn't running" in error["message"]
    assert_clear(error["message"])
    conversation_id = next(f for f in frames if f["type"] == "start")["conversation_id"]
    user, reply = app.conversation(conversation_id)["messages"]
    assert (user["content"], user["status"], reply["status"]) == (
        "anyone there?",
        "complete",
        "error",
    )
    # The nudged monitor reports the loss at once, then finds Ollama back by itself.
    if not any(s["state"] in ("reconnecting", "disconnected") for s in statuses):
        ws.recv_until(lambda f: f.get("state") in ("reconnecting", "disconnected"), 5)
    fake_ollama.start()
    ws.recv_until(lambda f: f.get("state") == "connected", 10)
    chat_send(ws, "now?", conversation_id)
    (frames,) = collect_replies(ws, 1).values()
    assert frames[-1]["type"] == "complete"


def test_ollama_restarted_mid_reply(launch, fake_ollama):
    app = launch()
    ws = app.ws()
    fake_ollama.token_count, fake_ollama.token_delay = 200, 0.02
    chat_send(ws, "one")
    chat_send(ws, "two")
    chunks = ws.recv_until(lambda f: f["type"] == "chunk" and f["seq"] >= 3)
    fake_ollama.stop()  # every connection dies with the process
    replies = collect_replies(ws, 2, already=chunks)
    wait_until(lambda: state(app) == "reconnecting", 5, "the nudged monitor to notice")
    fake_ollama.start()  # back on the same port, as `ollama serve` would be
    assert len(replies) == 2
    for frames in replies.values():
        assert frames[-1]["type"] == "error" and frames[-1]["code"] == "ollama_unavailable"
        assert "lost" in frames[-1]["message"]
        stored = app.conversation(frames[0]["conversation_id"])["messages"][-1]
        assert (stored["status"], stored["content"]) == ("error", frames[-1]["content"])
    wait_until(lambda: state(app) == "connected", 10, "the monitor to find Ollama back")
    fake_ollama.token_count, fake_ollama.token_delay = 8, 0.0
    chat_send(ws, "three", frames[0]["conversation_id"])
    (after,) = collect_replies(ws, 1).values()
    assert after[-1]["type"] == "complete" and after[-1]["content"] == token_text(8)
