"""The conversation store: the API the chat service and the REST routes call."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self, TypeVar
from uuid import uuid4

from sqlalchemy import delete, exists, func, or_, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from backend.errors import BadRequest, NotFound
from backend.store.db import BEGIN_MODE, StoreError, make_engine, unusable
from backend.store.migrations import MigrationResult, migrate
from backend.store.models import (
    ROLES,
    STATUSES,
    UNFINISHED_SQL,
    Conversation,
    Message,
    conversation_dict,
    message_dict,
)
from backend.store.validation import (
    check_choice,
    check_text,
    conversation_fields,
    escape_like,
)

DEFAULT_TITLE = "New conversation"
EDITABLE = ("title", "model", "system_prompt")
_Row = TypeVar("_Row", Conversation, Message)


def utc_now() -> datetime:
    return datetime.now(UTC)


class Store:
    """Conversations and messages in one SQLite file; safe to share between threads."""

    def __init__(self, db_path: Path, *, clock: Callable[[], datetime] = utc_now) -> None:
        """Open (creating if needed) and migrate; mark replies cut off by a crash interrupted."""
        self.path = Path(db_path)
        self._clock = clock
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise unusable(self.path, exc) from exc
        self.migration: MigrationResult = migrate(self.path)
        self.engine = make_engine(self.path)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        try:
            self.recovered: int = self._recover_interrupted()
        except StoreError as exc:
            self.engine.dispose()
            raise StoreError(exc.message) from exc  # at start-up: "database_unusable"

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @contextmanager
    def _session(self, *, write: bool = False) -> Iterator[Session]:
        """One unit of work: a snapshot to read, or the write lock taken up front."""
        try:
            with self._sessions() as session:
                mode = "IMMEDIATE" if write else "DEFERRED"
                session.connection(execution_options={BEGIN_MODE: mode})
                yield session
                if write:
                    session.commit()
        except DBAPIError as exc:
            message = f"The database {self.path} failed: {exc.orig}"
            raise StoreError(message, code="database_error") from exc

    def _recover_interrupted(self) -> int:
        # Literal SQL so that SQLite can prove the partial index applies.
        stmt = (
            update(Message)
            .where(Message.role == "assistant", text(UNFINISHED_SQL))
            .values(status="interrupted")
            .execution_options(synchronize_session=False)
        )
        with self._session(write=True) as s:
            return s.execute(stmt).rowcount

    # Conversations

    def create_conversation(
        self, title: str | None = None, model: str | None = None, system_prompt: str | None = None
    ) -> dict[str, Any]:
        title = DEFAULT_TITLE if title is None else title
        fields = conversation_fields(title=title, model=model, system_prompt=system_prompt)
        now = self._clock()
        conversation = Conversation(id=uuid4().hex, created_at=now, updated_at=now, **fields)
        with self._session(write=True) as s:
            s.add(conversation)
        return conversation_dict(conversation, 0)

    def get_conversation(
        self, conversation_id: str, *, with_messages: bool = True
    ) -> dict[str, Any]:
        with self._session() as s:
            conversation = _get(s, Conversation, conversation_id)
            if not with_messages:
                return conversation_dict(conversation, _count_messages(s, conversation_id))
            messages = [message_dict(m) for m in s.scalars(_messages_of(conversation_id))]
        return {**conversation_dict(conversation, len(messages)), "messages": messages}

    def list_conversations(
        self, q: str | None = None, *, limit: int = 200, offset: int = 0
    ) -> list[dict[str, Any]]:
        """Newest `updated_at` first; `q` matches titles and message text, ignoring case."""
        if limit < 0 or offset < 0:
            raise BadRequest("limit and offset must not be negative")
        count = (
            select(func.count())
            .select_from(Message)
            .where(Message.conversation_id == Conversation.id)
            .scalar_subquery()
        )
        stmt = (
            select(Conversation, count)
            .order_by(Conversation.updated_at.desc(), Conversation.id.desc())
            .limit(limit)
            .offset(offset)
        )
        if q:
            pattern = "%" + escape_like(q) + "%"
            in_messages = exists().where(
                Message.conversation_id == Conversation.id,
                Message.content.like(pattern, escape="\\"),
            )
            stmt = stmt.where(or_(Conversation.title.like(pattern, escape="\\"), in_messages))
        with self._session() as s:
            return [conversation_dict(c, n) for c, n in s.execute(stmt)]

    def update_conversation(self, conversation_id: str, **fields: Any) -> dict[str, Any]:
        """Change title, model and/or system_prompt; bumps `updated_at`."""
        unknown = sorted(set(fields) - set(EDITABLE))
        if unknown:
            raise BadRequest(f"cannot update {', '.join(unknown)}; editable: {', '.join(EDITABLE)}")
        values = conversation_fields(**fields)
        with self._session(write=True) as s:
            conversation = _get(s, Conversation, conversation_id)
            for name, value in values.items():
                setattr(conversation, name, value)
            if values:
                conversation.updated_at = self._clock()
            count = _count_messages(s, conversation_id)
        return conversation_dict(conversation, count)

    def delete_conversation(self, conversation_id: str) -> None:
        """Delete it and (by the foreign key's ON DELETE CASCADE) its messages."""
        stmt = delete(Conversation).where(Conversation.id == conversation_id)
        with self._session(write=True) as s:
            deleted = s.execute(stmt.execution_options(synchronize_session=False)).rowcount
            if not deleted:
                raise NotFound(f"no conversation {conversation_id!r}")

    # Messages

    def add_message(
        self,
        conversation_id: str,
        role: str,
        content: str,
        *,
        status: str = "complete",
        model: str | None = None,
    ) -> dict[str, Any]:
        """Append a message at the end of the conversation; bumps its `updated_at`."""
        check_choice("role", role, ROLES)
        check_choice("status", status, STATUSES)
        check_text("content", content)
        check_text("model", model, optional=True)
        now = self._clock()
        bump = update(Conversation).where(Conversation.id == conversation_id)
        last = select(func.max(Message.position)).where(Message.conversation_id == conversation_id)
        with self._session(write=True) as s:
            # The write lock is held from BEGIN IMMEDIATE, so max(position) cannot race.
            if not s.execute(bump.values(updated_at=now)).rowcount:
                raise NotFound(f"no conversation {conversation_id!r}")
            message = Message(
                id=uuid4().hex,
                conversation_id=conversation_id,
                position=(s.scalar(last) or 0) + 1,
                role=role,
                content=content,
                status=status,
                model=model,
                created_at=now,
            )
            s.add(message)
        return message_dict(message)

    def update_message(
        self,
        message_id: str,
        *,
        content: str | None = None,
        thinking: str | None = None,
        status: str | None = None,
        error: str | None = None,
        stats: dict[str, Any] | None = None,
    ) -> None:
        """Set the given fields in one UPDATE (called every ~250 ms while streaming)."""
        given = {"content": content, "thinking": thinking, "error": error}
        values: dict[str, Any] = {k: v for k, v in given.items() if v is not None}
        for name, value in values.items():
            check_text(name, value)
        if status is not None:
            check_choice("status", status, STATUSES)
            values["status"] = status
        if stats is not None:
            if not isinstance(stats, dict):
                raise BadRequest("stats must be an object")
            values["stats"] = stats
        if not values:
            self.get_message(message_id)  # still report an unknown id
            return
        stmt = update(Message).where(Message.id == message_id).values(**values)
        with self._session(write=True) as s:
            if not s.execute(stmt.execution_options(synchronize_session=False)).rowcount:
                raise NotFound(f"no message {message_id!r}")

    def get_message(self, message_id: str) -> dict[str, Any]:
        with self._session() as s:
            return message_dict(_get(s, Message, message_id))

    def history(
        self, conversation_id: str, *, before_message_id: str | None = None
    ) -> list[dict[str, Any]]:
        """All messages in order, or only those before `before_message_id`."""
        stmt = _messages_of(conversation_id)
        with self._session() as s:
            _get(s, Conversation, conversation_id)
            if before_message_id is not None:
                position = s.scalar(
                    select(Message.position).where(
                        Message.id == before_message_id, Message.conversation_id == conversation_id
                    )
                )
                if position is None:
                    raise NotFound(f"no message {before_message_id!r} in {conversation_id!r}")
                stmt = stmt.where(Message.position < position)
            return [message_dict(m) for m in s.scalars(stmt)]


def _get(session: Session, model: type[_Row], key: str) -> _Row:
    found = session.get(model, key) if isinstance(key, str) else None
    if found is None:
        raise NotFound(f"no {model.__name__.lower()} {key!r}")
    return found


def _messages_of(conversation_id: str) -> Any:
    return (
        select(Message).where(Message.conversation_id == conversation_id).order_by(Message.position)
    )


def _count_messages(session: Session, conversation_id: str) -> int:
    stmt = select(func.count()).select_from(Message)
    return session.scalar(stmt.where(Message.conversation_id == conversation_id)) or 0
