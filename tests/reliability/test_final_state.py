"""The contract's final state, whatever fails: "when a reply's final frame is sent, the
message is already stored in that final state". In process, with a real store and the
fake Ollama; the failures are a bug's (an exception nobody expected) and SQLite's."""

from __future__ import annotations

import pytest

from backend.core.chat import ChatService
from backend.core.errors import AppError
from backend.core.providers.ollama import OllamaClient
from backend.core.store import Store, StoreError
from tests.fake_ollama import DEFAULT_TOKENS


class BuggyStore(Store):
    """A real store whose first progress write fails the way only a bug would."""

    progress_failures = 1

    def update_message(self, message_id, **fields):
        if "status" not in fields and self.progress_failures:
            self.progress_failures -= 1
            raise RuntimeError("a bug in a progress write")
        super().update_message(message_id, **fields)


STORE_CLASS = BuggyStore  # the shared `store` fixture (conftest.py) opens this one


@pytest.fixture
def chat(store, fake_ollama):
    fake_ollama.token_delay = 0.01  # long enough for a progress write mid-reply
    service = ChatService(store, OllamaClient(fake_ollama.url), persist_interval_s=0.05)
    yield service
    service.shutdown()


def test_an_unexpected_error_mid_reply_still_stores_the_text_shown_before_the_final_frame(
    chat, store
):
    reply = chat.send(None, "Why is the sky blue?", model="llama3.2")
    frames = list(reply.frames())
    final = frames[-1]
    assert final["type"] == "error" and final["message"] == "The reply failed unexpectedly"
    shown = "".join(f.get("delta", "") for f in frames[1:-1])
    assert final["content"] == shown and shown
    assert "".join(DEFAULT_TOKENS).startswith(shown)
    stored = store.get_message(reply.message_id)
    assert (stored["status"], stored["content"]) == ("error", shown)


@pytest.mark.parametrize(
    "fields",
    [{"content": "a\ud800b"}, {"error": "\udfff"}, {"thinking": "\ud83d"}],
    ids=["in_content", "in_error", "in_thinking"],
)
def test_a_lone_surrogate_sqlite_cannot_take_is_a_store_error_that_names_no_path(
    store, tmp_path, fields
):
    store.progress_failures = 0
    conversation = store.create_conversation()
    message = store.add_message(conversation["id"], "assistant", "", status="streaming")
    with pytest.raises(AppError) as caught:
        store.update_message(message["id"], **fields)
    assert isinstance(caught.value, StoreError) and caught.value.code == "database_error"
    assert str(tmp_path) not in caught.value.message and "/" not in caught.value.message
    assert store.get_message(message["id"])["status"] == "streaming"  # nothing half-written
