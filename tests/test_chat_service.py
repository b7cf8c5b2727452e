"""The streaming core against the fake Ollama and a real store."""
# Over 300 lines on purpose: one test per behaviour of the streaming core, sharing its fixtures.

from __future__ import annotations

import threading
import time

import pytest

from backend.core.chat import ChatService
from backend.core.errors import AppError, BadRequest, Busy, NotFound
from backend.core.providers.ollama import OllamaClient
from backend.core.store import Store
from tests.fake_ollama import DEFAULT_TOKENS


class CountingStore(Store):
    """A real store that counts the writes of a reply's progress."""

    def __init__(self, path):
        super().__init__(path)
        self.message_updates = 0

    def update_message(self, message_id, **fields):
        self.message_updates += 1
        super().update_message(message_id, **fields)


STORE_CLASS = CountingStore  # the shared `store` fixture (conftest.py) opens this one


@pytest.fixture
def failures():
    return []


@pytest.fixture
def chat(store, fake_ollama, failures):
    service = ChatService(
        store, OllamaClient(fake_ollama.url), on_ollama_failure=lambda: failures.append(1)
    )
    yield service
    service.shutdown()


def run(reply) -> list[dict]:
    return list(reply.frames())


def assert_well_formed(frames: list[dict]) -> None:
    assert frames[0]["type"] == "start"
    assert [f["seq"] for f in frames] == list(range(len(frames)))
    assert frames[-1]["type"] in ("complete", "cancelled", "error")
    assert all(f["type"] == "chunk" for f in frames[1:-1])
    deltas = "".join(f["delta"] for f in frames[1:-1])
    assert frames[-1].get("content", deltas) == deltas


def test_a_reply_streams_and_is_stored_complete(chat, store):
    reply = chat.send(None, "Why is the sky blue?", model="llama3.2", request_id="r1")
    frames = run(reply)
    assert_well_formed(frames)
    start, final = frames[0], frames[-1]
    assert start["request_id"] == "r1" and start["model"] == "llama3.2"
    assert final["type"] == "complete" and final["done_reason"] == "stop"
    assert final["content"] == "".join(DEFAULT_TOKENS)
    assert final["stats"]["eval_count"] == len(DEFAULT_TOKENS)
    assert final["stats"]["tokens_per_second"] > 0
    conversation = store.get_conversation(start["conversation_id"])
    assert conversation["title"] == "Why is the sky blue?"
    user, assistant = conversation["messages"]
    assert (user["role"], user["content"], user["id"]) == (
        "user",
        "Why is the sky blue?",
        start["user_message_id"],
    )
    assert assistant["id"] == start["message_id"]
    assert assistant["status"] == "complete"
    assert assistant["content"] == final["content"]
    assert assistant["stats"]["eval_count"] == len(DEFAULT_TOKENS)


def test_history_carries_the_system_prompt_and_earlier_turns(chat, store, fake_ollama):
    conversation = store.create_conversation(
        title="t", model="llama3.2", system_prompt="Answer briefly."
    )
    run(chat.send(conversation["id"], "first"))
    fake_ollama.tokens = ["second answer"]
    run(chat.send(conversation["id"], "second"))
    sent = fake_ollama.chat_requests[-1]
    assert sent["model"] == "llama3.2" and sent["stream"] is True
    assert [(m["role"], m["content"]) for m in sent["messages"]] == [
        ("system", "Answer briefly."),
        ("user", "first"),
        ("assistant", "".join(DEFAULT_TOKENS)),
        ("user", "second"),
    ]


def test_error_mid_stream_keeps_the_partial_text(chat, store, fake_ollama, failures):
    fake_ollama.error_after = 5
    frames = run(chat.send(None, "hi", model="llama3.2"))
    assert_well_formed(frames)
    final = frames[-1]
    assert final["type"] == "error" and final["code"] == "ollama_stream_error"
    assert final["content"] == "".join(DEFAULT_TOKENS[:5])
    stored = store.get_message(final["message_id"])
    assert stored["status"] == "error" and stored["content"] == final["content"]
    assert "unexpected EOF" in stored["error"]
    assert failures, "the connection monitor should be nudged"


def test_ollama_down_still_stores_the_users_message(chat, store, fake_ollama):
    fake_ollama.stop()
    frames = run(chat.send(None, "are you there?", model="llama3.2"))
    assert frames[-1]["type"] == "error" and frames[-1]["code"] == "ollama_unavailable"
    conversation = store.get_conversation(frames[0]["conversation_id"])
    assert [(m["role"], m["status"]) for m in conversation["messages"]] == [
        ("user", "complete"),
        ("assistant", "error"),
    ]
    assert conversation["messages"][0]["content"] == "are you there?"


def test_unknown_model_is_refused_before_anything_is_stored(chat, store):
    with pytest.raises(NotFound) as caught:
        chat.send(None, "hi", model="no-such-model")
    assert caught.value.code == "model_not_found"
    assert store.list_conversations() == []


def test_bad_content_is_refused(chat):
    with pytest.raises(BadRequest):
        chat.send(None, "   ", model="llama3.2")
    with pytest.raises(BadRequest) as caught:
        chat.send(None, "x" * (1024 * 1024 + 1), model="llama3.2")
    assert caught.value.code == "content_too_large"


def test_a_second_send_to_a_streaming_conversation_is_busy(chat, fake_ollama):
    fake_ollama.token_delay = 0.05
    first = chat.send(None, "one", model="llama3.2")
    with pytest.raises(Busy):
        chat.send(first.conversation_id, "two", model="llama3.2")
    chat.cancel(first.message_id)
    run(first)
    run(chat.send(first.conversation_id, "two", model="llama3.2"))  # free again


def test_cancel_keeps_the_text_and_closes_the_request(chat, store, fake_ollama):
    fake_ollama.token_delay = 0.05
    reply = chat.send(None, "go", model="llama3.2")
    frames = []
    for frame in reply.frames():
        frames.append(frame)
        if frame["type"] == "chunk":
            chat.cancel(reply.message_id)
    assert_well_formed(frames)
    assert frames[-1]["type"] == "cancelled"
    stored = store.get_message(reply.message_id)
    assert stored["status"] == "cancelled" and stored["content"] == frames[-1]["content"]
    deadline = time.monotonic() + 5
    while fake_ollama.aborted_streams == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert fake_ollama.aborted_streams == 1


def test_text_is_stored_while_it_streams(store, fake_ollama):
    chat = ChatService(store, OllamaClient(fake_ollama.url), persist_interval_s=0.05)
    fake_ollama.token_delay = 0.03
    reply = chat.send(None, "slowly", model="llama3.2")
    partial = None
    for frame in reply.frames():
        if frame["type"] == "chunk" and frame["seq"] >= 10 and partial is None:
            partial = store.get_message(reply.message_id)
    assert partial is not None
    assert partial["status"] == "streaming"
    assert partial["content"] and "".join(DEFAULT_TOKENS).startswith(partial["content"])
    assert store.get_message(reply.message_id)["status"] == "complete"
    chat.shutdown()


def test_progress_writes_are_batched_not_per_token(store, fake_ollama):
    chat = ChatService(store, OllamaClient(fake_ollama.url), persist_interval_s=0.25)
    fake_ollama.token_count = 5000
    started = time.monotonic()
    frames = run(chat.send(None, "many", model="llama3.2"))
    elapsed = time.monotonic() - started
    assert frames[-1]["type"] == "complete"
    assert frames[-1]["content"] == "".join(f"tok{i} " for i in range(5000))
    # One write per 250 ms of streaming at most, plus the final one.
    assert store.message_updates <= elapsed / 0.25 + 2
    chat.shutdown()


def test_readers_each_get_every_token_with_their_own_gap_free_seq(chat, fake_ollama):
    fake_ollama.token_count = 300
    reply = chat.send(None, "fan out", model="llama3.2")
    slow: list[dict] = []

    def slow_reader():
        for frame in reply.frames():
            slow.append(frame)
            time.sleep(0.002)

    thread = threading.Thread(target=slow_reader)
    thread.start()
    fast = run(reply)
    thread.join(10)
    for frames in (fast, slow):
        assert_well_formed(frames)
        assert frames[-1]["content"] == "".join(f"tok{i} " for i in range(300))


def test_shutdown_saves_replies_in_flight_as_interrupted(store, fake_ollama):
    chat = ChatService(store, OllamaClient(fake_ollama.url))
    fake_ollama.token_delay = 0.05
    reply = chat.send(None, "long", model="llama3.2")
    frames = reply.frames()
    next(frames), next(frames)  # start and a first chunk
    chat.shutdown(timeout=5)
    stored = store.get_message(reply.message_id)
    assert stored["status"] == "interrupted" and stored["content"]
    with pytest.raises(AppError) as caught:
        chat.send(None, "after", model="llama3.2")
    assert caught.value.code == "shutting_down"


def test_no_model_named_uses_the_first_installed(chat, fake_ollama):
    frames = run(chat.send(None, "which model?"))
    assert frames[0]["model"] == fake_ollama.models[0]["name"]


# Reasoning models: how long the model thought.


def test_thinking_timer_runs_from_first_thought_to_first_words():
    from backend.core.chat.runner import ThinkingTimer

    now = [10.0]
    timer = ThinkingTimer(lambda: now[0])
    timer.content()  # content before any thinking: no thinking at all
    assert timer.elapsed_ms() is None
    timer.thinking()
    now[0] = 11.5
    timer.thinking()  # later thoughts do not restart it
    now[0] = 13.2
    timer.content()
    now[0] = 20.0
    timer.content()
    assert timer.elapsed_ms() == 3200.0
    unfinished = ThinkingTimer(lambda: now[0])
    unfinished.thinking()
    now[0] = 20.25
    assert unfinished.elapsed_ms() == 250.0  # still thinking: counts until now


class StepClock:
    """A monotonic clock that moves half a second each time it is read."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.now = 0.0

    def __call__(self) -> float:
        with self._lock:
            self.now += 0.5
            return self.now


def test_thinking_duration_is_in_the_stats(store, fake_ollama):
    chat = ChatService(store, OllamaClient(fake_ollama.url), clock=StepClock())
    fake_ollama.thinking = ["Let", " me", " think", "."]
    frames = run(chat.send(None, "17 × 23?", model="qwen3:8b", think=True))
    final = frames[-1]
    assert final["type"] == "complete"
    thought = final["stats"]["thinking_ms"]
    assert thought >= 500 and thought % 500 == 0  # whole clock steps, from first to first
    stored = store.get_message(final["message_id"])
    assert stored["stats"] == final["stats"]
    assert stored["thinking"] == "Let me think."
    assert fake_ollama.chat_requests[-1]["think"] is True
    fake_ollama.thinking = []
    plain = run(chat.send(None, "hi", model="llama3.2"))[-1]
    assert "thinking_ms" not in plain["stats"]
    chat.shutdown()


def test_a_reply_stopped_while_thinking_keeps_its_thinking_time(chat, store, fake_ollama):
    fake_ollama.thinking = ["hmm "] * 100
    fake_ollama.token_delay = 0.02
    reply = chat.send(None, "think long", model="qwen3:8b")
    for frame in reply.frames():
        if frame["type"] == "chunk":
            chat.cancel(reply.message_id)
    stored = store.get_message(reply.message_id)
    assert stored["status"] == "cancelled" and stored["thinking"].startswith("hmm")
    assert stored["stats"]["thinking_ms"] > 0


# Per-conversation settings: options and think.


def test_conversation_settings_reach_ollama_and_messages_override_them(chat, store, fake_ollama):
    conversation = store.create_conversation(model="llama3.2")
    cid = conversation["id"]
    run(chat.send(cid, "plain"))
    assert "options" not in fake_ollama.chat_requests[-1]
    assert "think" not in fake_ollama.chat_requests[-1]
    store.update_conversation(cid, options={"temperature": 0.5, "seed": 7}, think=True)
    run(chat.send(cid, "with settings"))
    sent = fake_ollama.chat_requests[-1]
    assert sent["options"] == {"temperature": 0.5, "seed": 7} and sent["think"] is True
    run(chat.send(cid, "override", options={"temperature": 1.2, "top_k": 20}, think=False))
    sent = fake_ollama.chat_requests[-1]
    assert sent["options"] == {"temperature": 1.2, "seed": 7, "top_k": 20}
    assert sent["think"] is False
    saved = store.get_conversation(cid, with_messages=False)
    assert saved["options"] == {"temperature": 0.5, "seed": 7} and saved["think"] is True


@pytest.mark.parametrize(
    ("options", "think", "code"),
    [
        ({"temprature": 0.5}, None, "invalid_option"),
        ({"temperature": "hot"}, None, "invalid_option"),
        ({"num_ctx": 2048.5}, None, "invalid_option"),
        ({"seed": True}, None, "invalid_option"),
        ({"top_p": 1.5}, None, "invalid_option"),
        ({"temperature": float("nan")}, None, "invalid_option"),
        ({"stop": "###"}, None, "invalid_option"),
        ({"temperature": 0.5}, "yes", "invalid_field"),
    ],
)
def test_bad_settings_are_refused_before_anything_is_stored(chat, store, options, think, code):
    with pytest.raises(BadRequest) as caught:
        chat.send(None, "hi", model="llama3.2", options=options, think=think)
    assert caught.value.code == code and caught.value.message
    assert store.list_conversations() == []
    conversation = store.create_conversation("settings")
    with pytest.raises(BadRequest):
        store.update_conversation(conversation["id"], options=options, think=think)
    unchanged = store.get_conversation(conversation["id"], with_messages=False)
    assert (unchanged["options"], unchanged["think"]) == ({}, None)


def test_every_bad_option_is_named_in_one_refusal(store):
    conversation = store.create_conversation("settings")
    bad = {"temperature": "warm", "top_p": 1.5, "seed": 7, "num_ctx": 0}
    with pytest.raises(BadRequest) as caught:
        store.update_conversation(conversation["id"], options=bad)
    assert caught.value.code == "invalid_option"
    assert caught.value.message == (
        "Option 'temperature' must be a number; Option 'top_p' must be between 0 and 1; "
        "Option 'num_ctx' must be at least 1"
    )


def test_settings_over_rest(runtime, fake_ollama):
    import requests

    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {runtime.token}"
    base = runtime.url + "api/conversations"
    created = session.post(base, json={"title": "Tuned", "options": {"num_ctx": 8192}}, timeout=5)
    assert created.status_code == 201 and created.json()["options"] == {"num_ctx": 8192}
    cid = created.json()["id"]
    patch = {"options": {"temperature": 0.1, "stop": ["###"]}, "think": False, "model": "qwen3:8b"}
    updated = session.patch(f"{base}/{cid}", json=patch, timeout=5)
    assert updated.status_code == 200
    body = updated.json()
    assert (body["options"], body["think"], body["model"]) == (patch["options"], False, "qwen3:8b")
    for bad in ({"options": {"colour": 1}}, {"options": [1]}, {"think": "no"}, {"options": 3}):
        refused = session.patch(f"{base}/{cid}", json=bad, timeout=5)
        assert refused.status_code == 400, bad
        assert refused.json()["error"]["code"] in ("invalid_field", "invalid_option")
    assert session.get(f"{base}/{cid}", timeout=5).json()["options"] == patch["options"]
    cleared = session.patch(f"{base}/{cid}", json={"options": None, "think": None}, timeout=5)
    assert (cleared.json()["options"], cleared.json()["think"]) == ({}, None)
