"""Export every conversation (JSON or Markdown) and import them back, losslessly.

The JSON document is `{"format": "cloudtolocalllm-export", "version": 1, "exported_at",
"conversations": [...]}`; each conversation is what `GET /api/conversations/ID` answers
plus every other stored column (a message's `position`), so that export, import into an
empty data dir and export again gives the same document but for `exported_at`.
Validation lives in `transfer_check.py`; this module reads and writes.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import islice
from typing import Any
from uuid import uuid4

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from backend.core.errors import NotFound
from backend.core.export import conversation_markdown
from backend.core.store.models import Conversation, Message, conversation_dict, iso, message_dict
from backend.core.store.store import Store
from backend.core.store.transfer_check import (
    CONVERSATION_TABLE,
    EXPORT_FORMAT,
    EXPORT_VERSION,
    MESSAGE_TABLE,
    ImportedConversation,
    message_references,
)
from backend.core.store.transfer_check import parse as parse_import
from backend.core.store.transfer_images import exported_images, insert_images

__all__ = [
    "EXPORT_FORMAT",
    "EXPORT_VERSION",
    "import_document",
    "iter_export_json",
    "iter_export_markdown",
]

_ID_CHUNK = 500  # ids per `IN (…)`, well under SQLite's limit on bound parameters
_ROW_CHUNK = 2000  # rows per executemany batch
CONVERSATION_REFS = message_references(CONVERSATION_TABLE)
MESSAGE_REFS = message_references(MESSAGE_TABLE)


def _row_dict(row: Any, table: Table, shown: dict[str, Any]) -> dict[str, Any]:
    """`shown` (the API's shape) plus any stored column it leaves out, in column order."""
    extra = {}
    for column in table.columns:
        if column.key not in shown:
            value = getattr(row, column.key)
            extra[column.key] = iso(value) if isinstance(value, datetime) else value
    return {**shown, **extra}


def _conversations(session: Session) -> Iterator[dict[str, Any]]:
    """Every conversation with its messages, newest `updated_at` first (the list's order)."""
    order = (Conversation.updated_at.desc(), Conversation.id.desc())
    for conversation in session.scalars(select(Conversation).order_by(*order)):
        rows = session.scalars(
            select(Message)
            .where(Message.conversation_id == conversation.id)
            .order_by(Message.position)
        ).all()
        messages = [_row_dict(m, Message.__table__, message_dict(m)) for m in rows]
        images = exported_images(session, [m.id for m in rows if m.role == "user"])
        for message in messages:
            if message["id"] in images:
                message["images"] = images[message["id"]]
        shown = conversation_dict(conversation, len(messages))
        yield {**_row_dict(conversation, Conversation.__table__, shown), "messages": messages}


def _header(exported_at: datetime) -> dict[str, Any]:
    return {"format": EXPORT_FORMAT, "version": EXPORT_VERSION, "exported_at": iso(exported_at)}


def iter_export_json(store: Store, exported_at: datetime) -> Iterator[str]:
    """The export as text, one conversation at a time, all read from one snapshot.

    The text equals `json.dumps` of the whole document with `indent=2, ensure_ascii=False`.
    """
    head = json.dumps(_header(exported_at), indent=2, ensure_ascii=False)
    with store.session() as session:
        yield head[:-2] + ',\n  "conversations": ['
        first = True
        for conversation in _conversations(session):
            body = json.dumps(conversation, indent=2, ensure_ascii=False)
            # JSON strings never hold a raw newline, so indenting by line is safe.
            yield ("\n" if first else ",\n") + textwrap.indent(body, "    ")
            first = False
        yield "]\n}" if first else "\n  ]\n}"


def iter_export_markdown(store: Store, exported_at: datetime) -> Iterator[str]:
    """Every conversation as Markdown in one document, separated by rules. Each part is
    exactly that conversation's own Markdown export (`GET /api/conversations/ID/export`)."""
    order = (Conversation.updated_at.desc(), Conversation.id.desc())
    with store.session() as session:
        ids = list(session.scalars(select(Conversation.id).order_by(*order)))
    yield f"# CloudToLocalLLM export\n\nExported {iso(exported_at)} · {len(ids)} conversations\n"
    for conversation_id in ids:
        try:
            conversation = store.get_conversation(conversation_id)
        except NotFound:  # deleted while the export was being written
            continue
        yield "\n---\n\n" + conversation_markdown(conversation)


def import_document(store: Store, document: Any) -> dict[str, Any]:
    """Validate the whole document, then write it in one transaction (or nothing at all).

    A conversation whose id is already in the database is skipped (listed in `skipped`):
    importing the same export twice adds nothing. Other ids are kept when free; one used
    twice in the file (or a message id taken) gets a new one, and references to it are
    rewritten. Replies that were `pending` or `streaming` when exported are imported as
    `interrupted`.
    """
    everything = parse_import(document)
    with store.session(write=True) as session:
        present = _taken(
            session, Conversation, [c.original_id for c in everything if c.original_id]
        )
        parsed = [c for c in everything if c.original_id not in present]
        skipped = [c for c in everything if c.original_id in present]
        conversation_ids = _assign_ids(session, Conversation, [c.values["id"] for c in parsed])
        message_ids = _assign_ids(session, Message, [m["id"] for c in parsed for m in c.messages])
        fresh = iter(message_ids)
        renames = [{m["id"]: next(fresh) for m in c.messages} for c in parsed]
        conversations, messages = _rows(parsed, conversation_ids, renames)
        if conversations:
            session.execute(insert(Conversation.__table__), conversations)
        # A batch of rows at a time: a copy of every message at once would double the peak.
        while batch := list(islice(messages, _ROW_CHUNK)):
            session.execute(insert(Message.__table__), batch)
        images = {
            renamed[old]: found
            for c, renamed in zip(parsed, renames, strict=True)
            for old, found in c.images.items()
        }
        insert_images(session, images, datetime.now(UTC))
    summaries = [
        {**_summary(c, new_id), "original_id": c.original_id}
        for c, new_id in zip(parsed, conversation_ids, strict=True)
    ]
    total = sum(len(c.messages) for c in parsed)
    return {
        "imported": {"conversations": len(parsed), "messages": total, "skipped": len(skipped)},
        "conversations": summaries,
        "skipped": [{"id": c.values["id"], "title": c.values["title"]} for c in skipped],
    }


def _summary(conversation: ImportedConversation, new_id: str) -> dict[str, Any]:
    """The imported conversation as the list shows it."""
    values = conversation.values
    return {
        "id": new_id,
        "title": values["title"],
        "model": values.get("model"),
        "system_prompt": values.get("system_prompt"),
        "created_at": iso(values["created_at"]),
        "updated_at": iso(values["updated_at"]),
        "message_count": len(conversation.messages),
    }


def _assign_ids(session: Session, model: Any, wanted: list[str]) -> list[str]:
    """Each wanted id if free (in the database and earlier in this list), else a new one."""
    taken = _taken(session, model, wanted)
    result = []
    for want in wanted:
        new = want if want not in taken else uuid4().hex
        taken.add(new)
        result.append(new)
    return result


def _rows(
    parsed: list[ImportedConversation], conversation_ids: list[str], renames: list[dict]
) -> tuple[list[dict[str, Any]], Iterator[dict[str, Any]]]:
    """Table rows with the final ids; references to a renamed message follow it. The
    message rows are made as they are taken."""
    conversations = [
        {**_follow(c.values, CONVERSATION_REFS, renamed), "id": conversation_id}
        for c, conversation_id, renamed in zip(parsed, conversation_ids, renames, strict=True)
    ]
    return conversations, _message_rows(parsed, conversation_ids, renames)


def _message_rows(
    parsed: list[ImportedConversation], conversation_ids: list[str], renames: list[dict]
) -> Iterator[dict[str, Any]]:
    for conversation, conversation_id, renamed in zip(
        parsed, conversation_ids, renames, strict=True
    ):
        for message in conversation.messages:
            values = _follow(message, MESSAGE_REFS, renamed)
            values.update(id=renamed[message["id"]], conversation_id=conversation_id)
            yield values


def _follow(values: dict[str, Any], refs: list[str], renamed: dict[str, str]) -> dict[str, Any]:
    out = dict(values)
    for key in refs:
        if out.get(key) is not None:
            out[key] = renamed[out[key]]
    return out


def _taken(session: Session, model: Any, ids: list[str]) -> set[str]:
    """Which of these ids the database already holds (for `model`'s table)."""
    taken: set[str] = set()
    for start in range(0, len(ids), _ID_CHUNK):
        chunk = ids[start : start + _ID_CHUNK]
        taken.update(session.scalars(select(model.id).where(model.id.in_(chunk))))
    return taken
