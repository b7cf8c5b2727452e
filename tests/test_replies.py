"""Replies over a real WebSocket on a real server thread, against the fake Ollama and fake
OpenAI servers: `chat.continue` carries on a reply that stopped early in the same message;
each reply stores the model and endpoint that wrote it (per branch when regenerated with
another model), and a conversation's model is never replaced unasked."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from tests.fake_ollama import DEFAULT_TOKENS
from tests.fake_openai import DEFAULT_TOKENS as OPENAI_TOKENS
from tests.fake_openai import FakeOpenAI
from tests.waiting import eventually
from tests.wsclient import WsClient

WHOLE = "".join(DEFAULT_TOKENS)


@pytest.fixture
def ws(runtime) -> Iterator[WsClient]:
    client = WsClient(runtime.url.replace("http://", "ws://") + f"ws?token={runtime.token}")
    yield client
    client.close()


def api(runtime, method: str, path: str, body: object = None) -> requests.Response:
    headers = {"Authorization": f"Bearer {runtime.token}"}
    return requests.request(method, runtime.url + "api/" + path, json=body, headers=headers)


def stored(runtime, conversation_id: str) -> dict:
    return api(runtime, "GET", f"conversations/{conversation_id}").json()["messages"][-1]


def cut_short(ws: WsClient, fake, after: int, **extra) -> list[dict]:
    """A reply that fails after `after` tokens (its text kept, status `error`)."""
    fake.error_after = after
    ws.send({"type": "chat.send", "request_id": "s", "conversation_id": None,
             "content": "Why is the sky blue?", "model": "llama3.2", **extra})  # fmt: skip
    frames = ws.reply()
    fake.error_after = None
    assert frames[-1]["type"] == "error" and frames[-1]["content"]
    return frames


def carry_on(ws: WsClient, message_id: str, request_id: str = "c") -> list[dict]:
    ws.send({"type": "chat.continue", "request_id": request_id, "message_id": message_id})
    return ws.reply()


def assert_one_reply(frames: list[dict], message_id: str) -> None:
    """The contract's shape: seq 0, 1, 2… from `start`, one final frame, one message."""
    assert [f["seq"] for f in frames] == list(range(len(frames)))
    assert frames[0]["type"] == "start" and {f["message_id"] for f in frames} == {message_id}
    assert all(f["type"] == "chunk" for f in frames[1:-1])


def test_continue_appends_to_the_same_message(ws, runtime, fake_ollama) -> None:
    first = cut_short(ws, fake_ollama, after=7)
    start, prefix = first[0], first[-1]["content"]
    assert prefix == "".join(DEFAULT_TOKENS[:7])

    frames = carry_on(ws, start["message_id"])
    assert_one_reply(frames, start["message_id"])
    again, final = frames[0], frames[-1]
    assert again["continues"] is True and again["prefix_length"] == len(prefix)
    assert again["request_id"] == "c" and again["sibling_of"] is None
    assert again["user_message_id"] == again["parent_id"] == start["user_message_id"]
    deltas = "".join(f["delta"] for f in frames[1:-1])
    # The deltas add up to the whole text, the text so far first, as for any reply.
    assert frames[1]["delta"].startswith(prefix) and deltas == final["content"]
    assert final["type"] == "complete" and final["content"] == WHOLE
    assert final["stats"]["eval_count"] == len(DEFAULT_TOKENS) - 7  # only the new tokens

    # The model was sent the question and the text so far, and carried it on.
    sent = fake_ollama.chat_requests[-1]["messages"]
    assert sent[-2:] == [
        {"role": "user", "content": "Why is the sky blue?"},
        {"role": "assistant", "content": prefix},
    ]
    message = stored(runtime, start["conversation_id"])
    assert message["id"] == start["message_id"] and message["status"] == "complete"
    assert message["content"] == WHOLE and message["error"] is None
    assert message["endpoint_id"] == "ollama" and message["model"] == "llama3.2"


def test_a_watching_socket_gets_the_same_frames(ws, runtime, fake_ollama) -> None:
    first = cut_short(ws, fake_ollama, after=3)
    other = WsClient(runtime.url.replace("http://", "ws://") + f"ws?token={runtime.token}")
    try:
        other.send({"type": "conversation.watch", "conversation_id": first[0]["conversation_id"]})
        assert other.recv()["type"] == "conversation.watching"
        frames = carry_on(ws, first[0]["message_id"])
        seen = other.reply()
    finally:
        other.close()
    assert [(f["type"], f["seq"]) for f in seen][0] == ("start", 0)
    assert "".join(f["delta"] for f in seen[1:-1]) == seen[-1]["content"] == WHOLE
    assert frames[-1]["content"] == WHOLE


def test_cancel_during_continue_keeps_all_the_text(ws, runtime, fake_ollama) -> None:
    first = cut_short(ws, fake_ollama, after=4)
    prefix = first[-1]["content"]
    fake_ollama.token_delay = 0.05
    ws.send({"type": "chat.continue", "request_id": "c", "message_id": first[0]["message_id"]})
    # The first chunk is the text so far; the second one is the model's new text.
    head = ws.recv_until(lambda f: f["type"] == "chunk" and f["seq"] == 2)
    ws.send({"type": "chat.cancel", "message_id": first[0]["message_id"]})
    frames = [f for f in head if f["type"] != "status"] + ws.reply()
    assert_one_reply(frames, first[0]["message_id"])
    final = frames[-1]
    assert final["type"] == "cancelled" and final["content"].startswith(prefix)
    assert len(final["content"]) > len(prefix)
    assert "".join(f["delta"] for f in frames[1:-1]) == final["content"]
    message = stored(runtime, first[0]["conversation_id"])
    assert (message["status"], message["content"]) == ("cancelled", final["content"])
    assert eventually(lambda: fake_ollama.aborted_streams == 1)


def test_ollama_down_during_continue_keeps_the_text(ws, runtime, fake_ollama) -> None:
    first = cut_short(ws, fake_ollama, after=5)
    prefix = first[-1]["content"]
    fake_ollama.stop()
    frames = carry_on(ws, first[0]["message_id"])
    assert_one_reply(frames, first[0]["message_id"])
    final = frames[-1]
    assert final["type"] == "error" and final["code"] == "ollama_unavailable"
    assert final["content"] == prefix
    message = stored(runtime, first[0]["conversation_id"])
    assert (message["status"], message["content"]) == ("error", prefix)
    # Back up: the same reply can be carried on again.
    fake_ollama.start()
    assert carry_on(ws, first[0]["message_id"])[-1]["content"] == WHOLE


@pytest.mark.parametrize(
    ("which", "code"),
    [("finished", "invalid_message"), ("user", "invalid_message"), ("nope", "not_found")],
)
def test_what_cannot_be_continued_is_refused(ws, runtime, fake_ollama, which, code) -> None:
    ws.send({"type": "chat.send", "request_id": "s", "conversation_id": None,
             "content": "Hi", "model": "llama3.2"})  # fmt: skip
    start = ws.reply()[0]
    target = {
        "finished": start["message_id"],
        "user": start["user_message_id"],
        "nope": "nope",
    }[which]
    ws.send({"type": "chat.continue", "request_id": "c", "message_id": target})
    error = ws.recv()
    assert (error["type"], error["code"], error["request_id"]) == ("error", code, "c")
    assert stored(runtime, start["conversation_id"])["status"] == "complete"


def test_only_the_last_reply_can_be_continued(ws, runtime, fake_ollama) -> None:
    first = cut_short(ws, fake_ollama, after=2)
    cid = first[0]["conversation_id"]
    ws.send({"type": "chat.send", "request_id": "s2", "conversation_id": cid,
             "content": "And at sunset?", "model": "llama3.2"})  # fmt: skip
    assert ws.reply()[-1]["type"] == "complete"
    ws.send({"type": "chat.continue", "request_id": "c", "message_id": first[0]["message_id"]})
    error = ws.recv()
    assert (error["type"], error["code"]) == ("error", "invalid_message")
    assert api(runtime, "GET", f"conversations/{cid}").json()["messages"][1]["status"] == "error"


def test_continue_without_request_id_is_a_bad_frame(ws, fake_ollama) -> None:
    first = cut_short(ws, fake_ollama, after=2)
    ws.send({"type": "chat.continue", "message_id": first[0]["message_id"]})
    assert ws.recv()["code"] == "missing_field"


# -- OpenAI-compatible servers -------------------------------------------------------------


@pytest.fixture
def server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake


@pytest.fixture
def endpoint(runtime, server: FakeOpenAI) -> str:
    fields = {"name": "vLLM", "kind": "openai", "base_url": server.url + "/v1"}
    added = api(runtime, "POST", "endpoints", fields)
    assert added.status_code == 201
    endpoint_id = added.json()["id"]
    connected = lambda: api(runtime, "GET", f"endpoints/{endpoint_id}").json()["status"]  # noqa: E731
    assert eventually(lambda: connected()["state"] == "connected")
    return endpoint_id


@pytest.mark.parametrize("prefill", ["always", "vllm"])
def test_openai_servers_carry_on_the_text(ws, runtime, server, endpoint, prefill) -> None:
    server.prefill = prefill  # llama.cpp / LM Studio, or vLLM with its fields
    first = cut_short(ws, server, after=6, endpoint_id=endpoint)
    frames = carry_on(ws, first[0]["message_id"])
    assert_one_reply(frames, first[0]["message_id"])
    assert frames[-1]["content"] == "".join(OPENAI_TOKENS)
    body = server.chat_requests[-1]
    assert body["messages"][-1] == {"role": "assistant", "content": first[-1]["content"]}
    assert body["continue_final_message"] is True and body["add_generation_prompt"] is False
    message = stored(runtime, first[0]["conversation_id"])
    assert message["endpoint_id"] == endpoint and message["content"] == "".join(OPENAI_TOKENS)


def test_a_server_that_refuses_the_fields_is_asked_without(ws, server, endpoint) -> None:
    server.strict_fields, server.prefill = True, "never"  # OpenAI's own API
    for _ in range(2):
        first = cut_short(ws, server, after=3, endpoint_id=endpoint)
        frames = carry_on(ws, first[0]["message_id"])
        assert frames[-1]["type"] == "complete"
        # This server starts a new turn: its answer follows the text so far.
        assert frames[-1]["content"] == first[-1]["content"] + "".join(OPENAI_TOKENS)
    continuing = [r for r in server.chat_requests if r["messages"][-1]["role"] == "assistant"]
    # Refused once, then never sent again.
    assert ["continue_final_message" in r for r in continuing] == [True, False, False]


# -- who wrote a reply -----------------------------------------------------------------


@pytest.fixture
def lm_studio(runtime) -> Iterator[tuple[FakeOpenAI, str]]:
    """A second server whose models share a name with Ollama's (`llama3.2`)."""
    with FakeOpenAI() as fake:
        fields = {"name": "LM Studio", "kind": "openai", "base_url": fake.url + "/v1"}
        endpoint_id = api(runtime, "POST", "endpoints", fields).json()["id"]
        state = lambda: api(runtime, "GET", f"endpoints/{endpoint_id}").json()["status"]["state"]  # noqa: E731
        assert eventually(lambda: state() == "connected")
        yield fake, endpoint_id


def test_regenerate_with_another_model_keeps_each_branchs_model(
    ws, runtime, fake_ollama, lm_studio
) -> None:
    fake, endpoint_id = lm_studio
    ws.send({"type": "chat.send", "request_id": "s", "conversation_id": None,
             "content": "Why is the sky blue?", "model": "llama3.2"})  # fmt: skip
    first = ws.reply()
    old_id, cid = first[0]["message_id"], first[0]["conversation_id"]
    ws.send({"type": "chat.regenerate", "request_id": "g", "message_id": old_id,
             "model": "qwen3:8b", "endpoint_id": endpoint_id})  # fmt: skip
    again = ws.reply()
    assert again[0]["model"] == "qwen3:8b" and again[0]["sibling_of"] == old_id
    assert again[-1]["content"] == "".join(OPENAI_TOKENS)
    assert fake.chat_requests[-1]["model"] == "qwen3:8b"

    shown = api(runtime, "GET", f"conversations/{cid}").json()
    new = shown["messages"][-1]
    assert (new["model"], new["endpoint_id"]) == ("qwen3:8b", endpoint_id)
    assert new["siblings"] == [old_id, new["id"]]
    back = api(runtime, "POST", f"messages/{old_id}/activate").json()["messages"][-1]
    assert (back["id"], back["model"], back["endpoint_id"]) == (old_id, "llama3.2", "ollama")
    assert back["content"] == first[-1]["content"]
    # The user's message has no writer of its own.
    assert back and shown["messages"][0]["endpoint_id"] is None


def test_a_deleted_model_is_never_replaced_unasked(ws, runtime, fake_ollama) -> None:
    ws.send({"type": "chat.send", "request_id": "s", "conversation_id": None,
             "content": "Hi", "model": "llama3.2"})  # fmt: skip
    cid = ws.reply()[0]["conversation_id"]
    fake_ollama.models = [m for m in fake_ollama.models if m["name"] != "llama3.2:latest"]
    # No model given: the conversation's own, which is gone. Nothing is sent to another.
    requests_before = len(fake_ollama.chat_requests)
    ws.send({"type": "chat.send", "request_id": "t", "conversation_id": cid, "content": "Again"})
    # Refused at once, or (the model list cached a moment ago) refused by Ollama itself.
    final = ws.recv_until(lambda f: f["type"] in ("error", "complete", "cancelled"))[-1]
    assert final["type"] == "error" and final["code"] in ("model_not_found", "ollama_error")
    assert {r["model"] for r in fake_ollama.chat_requests[requests_before:]} <= {"llama3.2"}
    assert api(runtime, "GET", f"conversations/{cid}").json()["model"] == "llama3.2"
