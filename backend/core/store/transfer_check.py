"""Validation of an import: the whole file is checked before anything is written.

Errors name the place, as in `conversations[3].messages[2].role: must be user, assistant
or system`. Fields the app derives (`message_count`, a message's `conversation_id`) and
fields it does not know are ignored. Stored columns without a check of their own are
checked by their SQL type, so columns added by later schema versions are imported too.

After parsing, every conversation and message has an id: the file's, or a new one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from sqlalchemy import JSON, Boolean, Column, DateTime, Integer, String, Table, Text
from sqlalchemy.types import TypeDecorator

from backend.core.errors import BadRequest
from backend.core.store.models import ROLES, STATUSES, TITLE_MAX, Conversation, Message
from backend.core.store.transfer_images import parsed_images
from backend.core.store.validation import check_options

EXPORT_FORMAT = "cloudtolocalllm-export"
EXPORT_VERSION = 1
ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_TEXT_CHARS = 16 * 1024 * 1024
MAX_NAME_CHARS = 500
# A reply cannot still be streaming in a file: it is stored the way a crash leaves it.
UNFINISHED = {"pending": "interrupted", "streaming": "interrupted"}
_SKIPPED = {"id", "conversation_id", "message_count", "messages"}
MESSAGE_TABLE, CONVERSATION_TABLE = Message.__table__, Conversation.__table__


def message_references(table: Table) -> list[str]:
    """Columns holding a message id: foreign keys to messages, and a conversation's
    `active_leaf_id` (no foreign key: the store repairs it itself)."""
    refs = [
        c.key
        for c in table.columns
        if any(fk.column is MESSAGE_TABLE.c.id for fk in c.foreign_keys)
    ]
    if table is CONVERSATION_TABLE and "active_leaf_id" in table.c:
        refs.append("active_leaf_id")
    return refs


@dataclass
class ImportedConversation:
    """Column values ready to insert; `original_id` is the file's id, if it had one."""

    values: dict[str, Any]
    messages: list[dict[str, Any]] = field(default_factory=list)
    original_id: str | None = None
    # A message's images (by its id in `messages`), decoded and checked.
    images: dict[str, list[bytes]] = field(default_factory=dict)


class InvalidImport(BadRequest):
    """A file that cannot be imported; the message names the first problem found."""

    code = "invalid_import"


def fail(where: str, problem: str) -> InvalidImport:
    return InvalidImport(f"{where}: {problem}" if where else problem)


def parse(document: Any) -> list[ImportedConversation]:
    """The conversations of an export document, or of one exported conversation."""
    if isinstance(document, dict) and "format" in document:
        if document["format"] != EXPORT_FORMAT:
            raise fail("format", f"must be {EXPORT_FORMAT!r}")
        if document.get("version") != EXPORT_VERSION:
            raise fail("version", f"must be {EXPORT_VERSION}; this app reads version 1 only")
        items = document.get("conversations")
        if not isinstance(items, list):
            raise fail("conversations", "must be a list")
        return [_conversation(item, f"conversations[{i}]") for i, item in enumerate(items)]
    if isinstance(document, dict) and "messages" in document:
        return [_conversation(document, "")]
    raise fail(
        "",
        f'not a CloudToLocalLLM export: expected an object with "format": {EXPORT_FORMAT!r}'
        ' or one exported conversation (with "messages")',
    )


def _at(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def _conversation(item: Any, where: str) -> ImportedConversation:
    if not isinstance(item, dict):
        raise fail(where or "the file", "must be an object")
    original = _id(item.get("id"), _at(where, "id"))
    title = _text(item.get("title"), _at(where, "title"), required=True, limit=TITLE_MAX)
    if not title.strip():
        raise fail(_at(where, "title"), "must not be empty")
    values: dict[str, Any] = {
        "id": original or uuid4().hex,
        "title": title.strip(),
        "model": _text(item.get("model"), _at(where, "model"), limit=MAX_NAME_CHARS),
        "system_prompt": _text(item.get("system_prompt"), _at(where, "system_prompt")),
        "created_at": _time(item.get("created_at"), _at(where, "created_at")),
        "updated_at": _time(item.get("updated_at"), _at(where, "updated_at")),
    }
    if "options" in CONVERSATION_TABLE.c and item.get("options") is not None:
        values["options"] = _options(item["options"], _at(where, "options"))
    values.update(_other_columns(item, CONVERSATION_TABLE, values, where))
    raw = item.get("messages")
    if not isinstance(raw, list):
        raise fail(_at(where, "messages"), "must be a list")
    messages = _messages(raw, _at(where, "messages"))
    _fill_times(values, messages)
    if "active_leaf_id" in CONVERSATION_TABLE.c and "active_leaf_id" not in item:
        # A file from before message branches: the newest message is the one shown.
        values["active_leaf_id"] = messages[-1]["id"] if messages else None
    _check_references(values, messages, where)
    images = {}
    for index, (item_message, message) in enumerate(zip(raw, messages, strict=True)):
        found = parsed_images(item_message, _at(where, f"messages[{index}]"), fail)
        if found:
            images[message["id"]] = found
    return ImportedConversation(values, messages, original, images)


def _fill_times(values: dict[str, Any], messages: list[dict[str, Any]]) -> None:
    """Times a hand-made file may leave out: from the messages', else now."""
    times = [m["created_at"] for m in messages if m["created_at"] is not None]
    if values["created_at"] is None:
        values["created_at"] = min(times, default=None) or datetime.now(UTC)
    for message in messages:
        if message["created_at"] is None:
            message["created_at"] = values["created_at"]
    if values["updated_at"] is None:
        values["updated_at"] = max([values["created_at"], *times])


def _messages(raw: list[Any], where: str) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, item in enumerate(raw):
        here = f"{where}[{index}]"
        message = _message(item, here, messages[-1] if messages else None)
        if message["id"] in seen:
            raise fail(_at(here, "id"), "is used by an earlier message of this conversation")
        seen.add(message["id"])
        messages.append(message)
    return messages


def _message(item: Any, where: str, previous: dict[str, Any] | None) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise fail(where, "must be an object")
    role = item.get("role")
    if type(role) is not str or role not in ROLES:  # a list or an object is no role either
        raise fail(_at(where, "role"), "must be user, assistant or system")
    status = item.get("status", "complete")
    if type(status) is not str or status not in STATUSES:
        raise fail(_at(where, "status"), "must be one of " + ", ".join(sorted(STATUSES)))
    after = previous["position"] if previous else 0
    position = item.get("position", after + 1)
    if not _is_integer(position) or position <= after:
        raise fail(_at(where, "position"), f"must be a whole number above {after}")
    stats = item.get("stats")
    if stats is not None and not isinstance(stats, dict):
        raise fail(_at(where, "stats"), "must be an object or null")
    values = {
        "id": _id(item.get("id"), _at(where, "id")) or uuid4().hex,
        "position": position,
        "role": role,
        "content": _text(item.get("content"), _at(where, "content"), required=True),
        "thinking": _text(item.get("thinking"), _at(where, "thinking")),
        "status": UNFINISHED.get(status, status),
        "model": _text(item.get("model"), _at(where, "model"), limit=MAX_NAME_CHARS),
        "error": _text(item.get("error"), _at(where, "error")),
        "stats": stats,
        "created_at": _time(item.get("created_at"), _at(where, "created_at")),
    }
    if "parent_id" in MESSAGE_TABLE.c and "parent_id" not in item:
        # A file from before message branches: each message follows the one before it.
        values["parent_id"] = previous["id"] if previous else None
    values.update(_other_columns(item, MESSAGE_TABLE, values, where))
    return values


def _is_integer(value: Any) -> bool:
    """A whole number SQLite's INTEGER holds (64 bits, signed); True and False are not."""
    return type(value) is int and -(2**63) <= value < 2**63


def _id(value: Any, where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not ID_PATTERN.fullmatch(value):
        raise fail(where, "must be 1 to 64 letters, digits, '-' or '_' (or null for a new id)")
    return value


def _text(value: Any, where: str, *, required: bool = False, limit: int = MAX_TEXT_CHARS) -> Any:
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise fail(where, "must be a string" if required else "must be a string or null")
    if len(value) > limit:
        raise fail(where, f"is longer than {limit} characters")
    return value


def _time(value: Any, where: str) -> datetime | None:
    if value is None:
        return None
    problem = "must be an ISO-8601 time with a zone, like 2026-01-31T12:00:00Z"
    if not isinstance(value, str):
        raise fail(where, problem)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise fail(where, problem) from None
    if moment.tzinfo is None:
        raise fail(where, problem)
    return moment.astimezone(UTC)


def _options(value: Any, where: str) -> dict[str, Any] | None:
    try:
        return check_options(value) or None  # {} is stored as "no options", as PATCH does
    except BadRequest as exc:
        raise fail(where, exc.message) from exc


def _other_columns(
    item: dict[str, Any], table: Table, done: dict[str, Any], where: str
) -> dict[str, Any]:
    """Stored columns not checked by hand, checked by their SQL type. A column the file
    leaves out gets its default: rows are inserted many at once, and a key missing from
    one row would be taken as missing from them all."""
    values = {}
    for column in table.columns:
        if column.key in done or column.key in _SKIPPED:
            continue
        if column.key in item:
            values[column.key] = _typed(item[column.key], column, _at(where, column.key))
        else:
            default = column.default
            values[column.key] = default.arg if default is not None and default.is_scalar else None
    return values


def _typed(value: Any, column: Column, where: str) -> Any:
    if value is None:
        if not column.nullable:
            raise fail(where, "must not be null")
        return None
    kind = column.type
    if isinstance(kind, TypeDecorator):  # e.g. UTCDateTime: check what it stores
        kind = kind.impl_instance
    if isinstance(kind, DateTime):
        return _time(value, where)
    if isinstance(kind, Boolean):
        ok = isinstance(value, bool)
    elif isinstance(kind, Integer):
        ok = _is_integer(value)
    elif isinstance(kind, String | Text):
        ok = isinstance(value, str) and len(value) <= MAX_TEXT_CHARS
    else:
        ok = isinstance(kind, JSON)
    if not ok:
        raise fail(where, f"must be a {kind.__class__.__name__.lower()} value")
    return value


def _check_references(values: dict[str, Any], messages: list[dict[str, Any]], where: str) -> None:
    """Message ids must point inside the conversation (only those can follow a renamed
    id), and from a message only to an earlier one, so a tree can never loop."""
    for key in message_references(CONVERSATION_TABLE):
        target = values.get(key)
        if target is not None and target not in {m["id"] for m in messages}:
            raise fail(_at(where, key), "must be the id of a message in this conversation")
    earlier: set[str] = set()
    refs = message_references(MESSAGE_TABLE)
    for index, message in enumerate(messages):
        for key in refs:
            if message.get(key) is not None and message[key] not in earlier:
                here = _at(f"{_at(where, 'messages')}[{index}]", key)
                raise fail(here, "must be the id of an earlier message in this conversation")
        earlier.add(message["id"])
