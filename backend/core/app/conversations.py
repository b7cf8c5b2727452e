"""Conversations: create, change, delete (stopping its replies), import and export."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from backend.core.chat import ChatService
from backend.core.errors import BadRequest
from backend.core.export import conversation_markdown
from backend.core.store import Store, transfer
from backend.core.store.models import TITLE_MAX
from backend.core.store.store import EDITABLE
from backend.core.store.transfer_images import as_exported
from backend.core.topics import (
    CONVERSATION_CREATED,
    CONVERSATION_DELETED,
    CONVERSATION_IMPORTED,
    CONVERSATION_UPDATED,
)

# Each editable field's JSON type (besides null); `options` is checked key by key in the store.
_FIELD_TYPES = {
    "options": (dict, "an object"),
    "think": (bool, "true, false"),
    "pinned": (bool, "true, false"),
}
_FORMATS = {"json": ("application/json", "json"), "markdown": ("text/markdown", "md")}


@dataclass(frozen=True)
class Download:
    """A file to hand the user: its text (whole, or in parts) and its name."""

    body: str | Iterator[str]
    mimetype: str
    filename: str


class ConversationService:
    """The conversation changes of the app; each publishes its `conversation.*` event."""

    def __init__(
        self, store: Store, chat: ChatService, publish: Callable[[str, dict], None]
    ) -> None:
        self.store = store
        self._chat = chat
        self._publish = publish

    def list(self, query: str | None = None) -> list[dict[str, Any]]:
        return self.store.list_conversations(query)

    def get(self, conversation_id: str) -> dict[str, Any]:
        return self.store.get_conversation(conversation_id)

    def create(self, fields: dict[str, Any]) -> dict[str, Any]:
        conversation = self.store.create_conversation(**checked_fields(fields))
        self._publish(CONVERSATION_CREATED, conversation)
        return conversation

    def update(self, conversation_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        checked = checked_fields(fields)
        conversation = self.store.update_conversation(conversation_id, **checked)
        self._publish(CONVERSATION_UPDATED, conversation)
        return conversation

    def delete(self, conversation_id: str) -> None:
        """Stop the conversation's replies (they end `cancelled`), then delete it."""
        self._chat.exclusive(
            conversation_id, lambda: self.store.delete_conversation(conversation_id)
        )
        self._publish(CONVERSATION_DELETED, {"id": conversation_id})

    def import_document(self, document: Any) -> dict[str, Any]:
        """An export document (or one exported conversation): all of it, or none."""
        result = transfer.import_document(self.store, document)
        ids = [c["id"] for c in result["conversations"]]
        self._publish(CONVERSATION_IMPORTED, {"ids": ids, "count": len(ids)})
        return result

    def export(self, conversation_id: str, fmt: str) -> Download:
        conversation = self.store.get_conversation(conversation_id)  # a 404 before a 400
        mimetype, ext = _format(fmt)
        if ext == "json":
            _embed_images(self.store, conversation)
            body = json.dumps(conversation, indent=2, ensure_ascii=False)
        else:
            body = conversation_markdown(conversation)
        return Download(body, mimetype, f"{_filename_stem(conversation['title'])}.{ext}")

    def export_all(self, fmt: str, now: datetime) -> Download:
        """Every conversation, streamed from one snapshot, the database opened already (so
        a failure is an error answer, not a cut download)."""
        mimetype, ext = _format(fmt)
        export = transfer.iter_export_json if ext == "json" else transfer.iter_export_markdown
        chunks = export(self.store, now)
        first = next(chunks)
        return Download(
            _prepend(first, chunks), mimetype, f"cloudtolocalllm-export-{now:%Y%m%d-%H%M%S}.{ext}"
        )


def checked_fields(body: dict[str, Any]) -> dict[str, Any]:
    """A create or update body's fields: only editable ones, each of its JSON type."""
    unknown = set(body) - set(EDITABLE)
    if unknown:
        raise BadRequest(f"Unknown field(s): {', '.join(sorted(unknown))}", code="invalid_field")
    for name, value in body.items():
        kind, wording = _FIELD_TYPES.get(name, (str, "a string"))
        if value is not None and not isinstance(value, kind):
            raise BadRequest(f"`{name}` must be {wording} or null", code="invalid_field")
    if "title" in body:
        title = (body["title"] or "").strip()
        if not title:
            raise BadRequest("The title cannot be empty", code="invalid_field")
        if len(title) > TITLE_MAX:
            raise BadRequest(
                f"The title is longer than {TITLE_MAX} characters", code="invalid_field"
            )
        body = {**body, "title": title}
    return body


def _format(fmt: str) -> tuple[str, str]:
    found = _FORMATS.get("markdown" if fmt == "md" else fmt)
    if found is None:
        raise BadRequest("`format` must be json or markdown", code="invalid_format")
    return found


def _prepend(first: str, rest: Iterator[str]) -> Iterator[str]:
    yield first
    yield from rest


def _filename_stem(title: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9\- ]+", "", title).strip().replace(" ", "-")[:60]
    return stem or "conversation"


def _embed_images(store: Store, conversation: dict[str, Any]) -> None:
    """The images themselves in place of their ids: the file is imported elsewhere."""
    messages = {m["id"]: m for m in conversation["messages"] if m.get("images")}
    for message_id, images in as_exported(store.image_bytes(list(messages))).items():
        messages[message_id]["images"] = images
