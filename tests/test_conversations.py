"""The application layer's conversation changes: each publishes its event, and a delete
stops the conversation's replies first (they end `cancelled`, their text kept)."""

from __future__ import annotations

import pytest

from backend.core.app import ConversationService
from backend.core.errors import BadRequest, NotFound
from backend.core.topics import CONVERSATION_CREATED, CONVERSATION_DELETED, CONVERSATION_UPDATED


@pytest.fixture
def published() -> list[tuple[str, dict]]:
    return []


@pytest.fixture
def conversations(store, chat, published) -> ConversationService:
    return ConversationService(
        store, chat, lambda topic, payload: published.append((topic, payload))
    )


def test_create_and_update_publish_what_they_stored(conversations, published):
    created = conversations.create({"title": "  Trip  "})
    assert created["title"] == "Trip"
    updated = conversations.update(created["id"], {"system_prompt": "Be brief", "think": True})
    assert published == [(CONVERSATION_CREATED, created), (CONVERSATION_UPDATED, updated)]
    assert conversations.get(created["id"])["system_prompt"] == "Be brief"


@pytest.mark.parametrize(
    ("body", "wording"),
    [
        ({"colour": "red"}, "Unknown field(s): colour"),
        ({"title": "   "}, "The title cannot be empty"),
        ({"title": "x" * 501}, "The title is longer than 500 characters"),
        ({"think": "yes"}, "`think` must be true, false or null"),
        ({"options": []}, "`options` must be an object or null"),
    ],
)
def test_a_bad_field_changes_and_publishes_nothing(conversations, published, body, wording):
    created = conversations.create({"title": "Kept"})
    published.clear()
    with pytest.raises(BadRequest) as caught:
        conversations.update(created["id"], body)
    assert (caught.value.code, caught.value.message) == ("invalid_field", wording)
    assert published == [] and conversations.get(created["id"])["title"] == "Kept"


def test_delete_stops_a_streaming_reply_then_deletes(conversations, chat, fake_ollama, published):
    fake_ollama.token_count, fake_ollama.token_delay = 400, 0.01
    reply = chat.send(None, "a long answer, please", model="llama3.2")
    frames = reply.frames()
    assert next(frames)["type"] == "start"
    assert next(frames)["type"] == "chunk"  # streaming now
    conversations.delete(reply.conversation_id)
    final = list(frames)[-1]
    assert final["type"] == "cancelled" and final["content"]
    assert chat.active(reply.conversation_id) == []
    with pytest.raises(NotFound):
        conversations.get(reply.conversation_id)
    assert published[-1] == (CONVERSATION_DELETED, {"id": reply.conversation_id})


def test_export_names_the_file_after_the_title(conversations):
    created = conversations.create({"title": "Packing: Iceland!"})
    as_json = conversations.export(created["id"], "json")
    as_markdown = conversations.export(created["id"], "md")
    assert (as_json.filename, as_json.mimetype) == ("Packing-Iceland.json", "application/json")
    assert (as_markdown.filename, as_markdown.mimetype) == ("Packing-Iceland.md", "text/markdown")
    assert as_markdown.body.startswith("# Packing: Iceland!")
    with pytest.raises(BadRequest):
        conversations.export(created["id"], "pdf")
