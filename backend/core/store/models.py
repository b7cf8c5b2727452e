"""ORM models of the conversation store and their plain-dict shapes for the contract.

The tables themselves are created by `migrations.py`, never by `Base.metadata.create_all`:
migrations are frozen history, the models describe the latest schema, and a test checks
that the two agree.
"""

from __future__ import annotations

from collections import namedtuple
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    text,
    type_coerce,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

ROLES = frozenset({"system", "user", "assistant"})
STATUSES = frozenset({"pending", "streaming", "complete", "cancelled", "error", "interrupted"})
# A reply in one of these states at start-up was cut off by a crash or a kill.
UNFINISHED_SQL = "status IN ('pending', 'streaming')"
TITLE_MAX = 500


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in Python, naive UTC text in SQLite (which sorts correctly)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; pass an aware UTC datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime}


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (Index("ix_conversations_updated_at", "updated_at", "id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    model: Mapped[str | None] = mapped_column(String)
    system_prompt: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # The last message of the path the user sees; messages form a tree (edits, regenerations).
    # No foreign key: the store repairs it in the same transaction that deletes its message.
    active_leaf_id: Mapped[str | None] = mapped_column(String(32))
    # Ollama `options` for every reply in this conversation (validated: see validation.py).
    options: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    think: Mapped[bool | None] = mapped_column(Boolean)
    # The endpoint `model` is on; None: the Ollama of --ollama-url ("ollama").
    endpoint_id: Mapped[str | None] = mapped_column(String(64))
    # Shown in the list's "Pinned" group, above the others.
    pinned: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("0"))


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_conversation_position", "conversation_id", "position", unique=True),
        # Tiny partial index: start-up recovery finds cut-off replies without a scan.
        Index("ix_messages_unfinished", "status", sqlite_where=text(UNFINISHED_SQL)),
        Index("ix_messages_parent", "parent_id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("conversations.id", ondelete="CASCADE")
    )
    # Per-conversation 1, 2, 3…: insertion order without sorting on timestamps.
    position: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text)
    thinking: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    model: Mapped[str | None] = mapped_column(String)
    error: Mapped[str | None] = mapped_column(Text)
    stats: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    created_at: Mapped[datetime]
    # The previous message on its path, None for a first message. Deleting a message
    # deletes the replies and edits below it.
    parent_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("messages.id", ondelete="CASCADE")
    )
    # The endpoint `model` is on (a reply's writer); None for user messages and old replies.
    endpoint_id: Mapped[str | None] = mapped_column(String(64))


class Image(Base):
    """An image of a user's message (PNG, JPEG, WebP or GIF, checked by its bytes)."""

    __tablename__ = "images"
    __table_args__ = (Index("ix_images_message", "message_id", "position"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # None while uploaded and not yet sent with a message (removed at the next start).
    message_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("messages.id", ondelete="CASCADE")
    )
    position: Mapped[int] = mapped_column(Integer)
    mime: Mapped[str] = mapped_column(String(32))
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]


def iso(moment: datetime | str) -> str:
    """ISO-8601 UTC with microseconds and a `Z`, the contract's timestamp form.

    A str is the column's stored text (naive UTC, as UTCDateTime writes it): reading a
    long conversation skips parsing it into a datetime only to print it again.
    """
    if isinstance(moment, str):
        if len(moment) == 26 and moment[10] == " ":  # "2026-11-26 07:12:00.123456"
            return moment[:10] + "T" + moment[11:] + "Z"
        moment = datetime.fromisoformat(moment).replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


# A message's columns for reading only, its timestamp as stored (see `iso`).
MESSAGE_ROW_COLUMNS = tuple(
    type_coerce(column, String).label("created_at") if column.name == "created_at" else column
    for column in Message.__table__.columns
)
# One of those rows: a named tuple, whose fields read ~15x faster than a SQLAlchemy Row's
# (a 2,000-message conversation reads 24,000 of them).
MessageRow = namedtuple("MessageRow", [column.name for column in MESSAGE_ROW_COLUMNS])


def conversation_dict(conversation: Conversation, message_count: int) -> dict[str, Any]:
    return {
        "id": conversation.id,
        "title": conversation.title,
        "model": conversation.model,
        "system_prompt": conversation.system_prompt,
        "created_at": iso(conversation.created_at),
        "updated_at": iso(conversation.updated_at),
        "message_count": message_count,
        "active_leaf_id": conversation.active_leaf_id,
        "options": dict(conversation.options or {}),
        "think": conversation.think,
        "endpoint_id": conversation.endpoint_id or "ollama",
        "pinned": bool(conversation.pinned),
    }


def message_dict(message: Message) -> dict[str, Any]:
    return {
        "id": message.id,
        "conversation_id": message.conversation_id,
        "role": message.role,
        "content": message.content,
        "thinking": message.thinking,
        "status": message.status,
        "model": message.model,
        "created_at": iso(message.created_at),
        "error": message.error,
        "stats": message.stats,
        "parent_id": message.parent_id,
        "endpoint_id": message.endpoint_id,
    }
