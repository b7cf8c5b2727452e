"""The conversation store: the API the chat service and the REST routes call.

Over ~300 lines because it is one class, the store's whole public API (conversations and
their messages share one session and one clock); the row plumbing lives beside it (db.py,
tree.py, validation.py, transfer.py) and what is left here is the API itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self, TypeVar
from uuid import uuid4

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from backend.core.errors import BadRequest, NotFound
from backend.core.store import images as image_rows
from backend.core.store.db import BEGIN_MODE, StoreError, database_error, make_engine, unusable
from backend.core.store.migrations import MigrationResult, migrate
from backend.core.store.models import (
    ROLES,
    STATUSES,
    UNFINISHED_SQL,
    Conversation,
    Image,
    Message,
    conversation_dict,
    message_dict,
)
from backend.core.store.search import search_conversations
from backend.core.store.tree import Tree, activate, delete_subtree, load_tree, message_in
from backend.core.store.validation import (
    check_choice,
    check_text,
    conversation_fields,
)

DEFAULT_TITLE = "New conversation"
EDITABLE = ("title", "model", "system_prompt", "options", "think", "endpoint_id", "pinned")
# Changes that are not activity: the chat keeps its place in the list (under the pointer).
NOT_ACTIVITY = frozenset({"title", "pinned"})
# `add_message` without a `parent_id`: the new message continues the active path.
AFTER_ACTIVE_LEAF: Any = object()
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
            with self.session(write=True) as s:
                image_rows.drop_unattached(s)
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
    def session(self, *, write: bool = False) -> Iterator[Session]:
        """One unit of work: a snapshot to read, or the write lock taken up front."""
        try:
            with self._sessions() as session:
                mode = "IMMEDIATE" if write else "DEFERRED"
                session.connection(execution_options={BEGIN_MODE: mode})
                yield session
                if write:
                    session.commit()
        except DBAPIError as exc:
            raise database_error(exc.orig) from exc
        except (SQLAlchemyError, UnicodeError, OverflowError) as exc:
            # Raised while binding a value SQLite cannot hold (a lone surrogate, an integer
            # beyond 64 bits): a failed write like any other, never an unexpected crash.
            raise database_error(exc) from exc

    def _recover_interrupted(self) -> int:
        # Literal SQL so that SQLite can prove the partial index applies.
        stmt = (
            update(Message)
            .where(Message.role == "assistant", text(UNFINISHED_SQL))
            .values(status="interrupted")
            .execution_options(synchronize_session=False)
        )
        with self.session(write=True) as s:
            return s.execute(stmt).rowcount

    # Conversations

    def create_conversation(
        self,
        title: str | None = None,
        model: str | None = None,
        system_prompt: str | None = None,
        options: dict[str, Any] | None = None,
        think: bool | None = None,
        endpoint_id: str | None = None,
        pinned: bool = False,
    ) -> dict[str, Any]:
        title = DEFAULT_TITLE if title is None else title
        fields = conversation_fields(
            title=title,
            model=model,
            system_prompt=system_prompt,
            options=options,
            think=think,
            endpoint_id=endpoint_id,
            pinned=pinned,
        )
        now = self._clock()
        conversation = Conversation(id=uuid4().hex, created_at=now, updated_at=now, **fields)
        with self.session(write=True) as s:
            s.add(conversation)
        return conversation_dict(conversation, 0)

    def get_conversation(
        self, conversation_id: str, *, with_messages: bool = True
    ) -> dict[str, Any]:
        """The conversation; `messages` is its active path, root first.

        `message_count` counts every stored message, alternatives included (as the list does).
        """
        with self.session() as s:
            conversation = _get(s, Conversation, conversation_id)
            if not with_messages:
                return conversation_dict(conversation, _count_messages(s, conversation_id))
            tree = load_tree(s, conversation_id)
            return _with_path(s, conversation, tree)

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
        # Plain rows, not ORM objects: the page is only read, and rows cost a third as much.
        stmt = (
            select(*Conversation.__table__.columns, count.label("message_count"))
            .order_by(Conversation.updated_at.desc(), Conversation.id.desc())
            .limit(limit)
            .offset(offset)
        )
        if q:
            # Ranked by relevance, with `snippet`, `match` and `message_id`: see search.py.
            with self.session() as s:
                return search_conversations(s, q, limit=limit, offset=offset)
        with self.session() as s:
            return [conversation_dict(row, row.message_count) for row in s.execute(stmt)]

    def update_conversation(self, conversation_id: str, **fields: Any) -> dict[str, Any]:
        """Change any of EDITABLE. Bumps `updated_at` unless only NOT_ACTIVITY changed."""
        unknown = sorted(set(fields) - set(EDITABLE))
        if unknown:
            raise BadRequest(f"cannot update {', '.join(unknown)}; editable: {', '.join(EDITABLE)}")
        values = conversation_fields(**fields)
        with self.session(write=True) as s:
            conversation = _get(s, Conversation, conversation_id)
            for name, value in values.items():
                setattr(conversation, name, value)
            if set(values) - NOT_ACTIVITY:
                conversation.updated_at = self._clock()
            count = _count_messages(s, conversation_id)
        return conversation_dict(conversation, count)

    def delete_conversation(self, conversation_id: str) -> None:
        """Delete it and (by the foreign key's ON DELETE CASCADE) its messages."""
        stmt = delete(Conversation).where(Conversation.id == conversation_id)
        with self.session(write=True) as s:
            deleted = s.execute(stmt.execution_options(synchronize_session=False)).rowcount
            if not deleted:
                raise NotFound(f"no conversation {conversation_id!r}")

    def set_title_if(self, conversation_id: str, expected: str, title: str) -> dict | None:
        """Rename only if the title is still `expected` (an automatic title must never undo
        the user's own renaming); `updated_at` stays: nothing new happened in the chat."""
        values = conversation_fields(title=title)
        with self.session(write=True) as s:
            conversation = _get(s, Conversation, conversation_id)
            if conversation.title != expected:
                return None
            conversation.title = values["title"]
            count = _count_messages(s, conversation_id)
        return conversation_dict(conversation, count)

    # Messages

    def add_message(
        self,
        conversation_id: str,
        role: str,
        content: str,
        *,
        status: str = "complete",
        model: str | None = None,
        parent_id: str | None = AFTER_ACTIVE_LEAF,
        endpoint_id: str | None = None,
        images: list[str] | None = None,
    ) -> dict[str, Any]:
        """Add a message below `parent_id` (None: a new first message; by default: at the end
        of the active path); it becomes the active leaf. Bumps the conversation's `updated_at`.
        `images` are ids of uploaded images (see `add_image`) the message takes, in order."""
        check_choice("role", role, ROLES)
        check_choice("status", status, STATUSES)
        check_text("content", content)
        check_text("model", model, optional=True)
        check_text("endpoint_id", endpoint_id, optional=True)
        now = self._clock()
        last = select(func.max(Message.position)).where(Message.conversation_id == conversation_id)
        with self.session(write=True) as s:
            # The write lock is held from BEGIN IMMEDIATE, so max(position) cannot race.
            conversation = _get(s, Conversation, conversation_id)
            if parent_id is AFTER_ACTIVE_LEAF:
                parent_id = _active_leaf(s, conversation)
            elif parent_id is not None:
                parent = s.get(Message, parent_id) if isinstance(parent_id, str) else None
                if parent is None or parent.conversation_id != conversation_id:
                    raise NotFound(f"no message {parent_id!r} in {conversation_id!r}")
            message = Message(
                id=uuid4().hex,
                conversation_id=conversation_id,
                parent_id=parent_id,
                position=(s.scalar(last) or 0) + 1,
                role=role,
                content=content,
                status=status,
                model=model,
                endpoint_id=endpoint_id,
                created_at=now,
            )
            s.add(message)
            conversation.active_leaf_id = message.id
            conversation.updated_at = now
            if images:
                s.flush()  # the message row first: its images refer to it
                image_rows.attach(s, message.id, image_rows.checked_ids(images), now)
                shown = image_rows.images_of(s, [message.id])
        added = message_dict(message)
        if images:
            added["images"] = shown[message.id]
        return added

    # Images

    def add_image(self, data: bytes) -> dict[str, Any]:
        """Store an upload (checked by its bytes) until a message takes it; its id, mime, size."""
        image = image_rows.new_image(data, self._clock())
        with self.session(write=True) as s:
            s.add(image)
        return image_rows.image_meta(image)

    def get_image(self, image_id: str) -> tuple[str, bytes]:
        """An image's MIME type and bytes."""
        with self.session() as s:
            image = _get(s, Image, image_id)
            return image.mime, image.data

    def image_bytes(self, message_ids: list[str]) -> dict[str, list[tuple[str, bytes]]]:
        """Each of these messages' images as (mime, bytes), in order."""
        if not message_ids:
            return {}  # most replies: no session opened for nothing
        with self.session() as s:
            return image_rows.image_bytes(s, message_ids)

    def image_ids(self, message_id: str) -> list[str]:
        """The ids of a message's images, in order."""
        with self.session() as s:
            return [i["id"] for i in image_rows.images_of(s, [message_id]).get(message_id, [])]

    def has_images(self, conversation_id: str) -> bool:
        """Whether any message of the conversation (on any branch) has an image."""
        with self.session() as s:
            return image_rows.conversation_has_images(s, conversation_id)

    def activate_message(self, message_id: str) -> dict[str, Any]:
        """Show the path through `message_id` (down to its newest leaf); the conversation."""
        with self.session(write=True) as s:
            conversation, tree = activate(s, message_id)
            return _with_path(s, conversation, tree)

    def resume_message(self, message_id: str) -> dict[str, Any]:
        """Mark a reply that stopped early `streaming` again, its text kept, as the active
        leaf: it is being continued. Only a leaf can be (nothing may follow the text that
        grows). Bumps the conversation's `updated_at`."""
        with self.session(write=True) as s:
            message, conversation, tree = message_in(s, message_id)
            if tree.children.get(message.id):
                raise BadRequest("Only the last reply can be continued", code="invalid_message")
            message.status, message.error = "streaming", None
            conversation.active_leaf_id = message.id
            conversation.updated_at = self._clock()
        return message_dict(message)

    def delete_message(self, message_id: str) -> dict[str, Any]:
        """Delete a message with its replies and edits below it; the conversation after."""
        with self.session(write=True) as s:
            conversation, tree = delete_subtree(s, message_id, self._clock())
            return _with_path(s, conversation, tree)

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
        with self.session(write=True) as s:
            if not s.execute(stmt.execution_options(synchronize_session=False)).rowcount:
                raise NotFound(f"no message {message_id!r}")

    def get_message(self, message_id: str) -> dict[str, Any]:
        with self.session() as s:
            return message_dict(_get(s, Message, message_id))

    def history(
        self, conversation_id: str, *, before_message_id: str | None = None
    ) -> list[dict[str, Any]]:
        """The active path, root first; or the path down to (without) `before_message_id`."""
        with self.session() as s:
            conversation = _get(s, Conversation, conversation_id)
            tree = load_tree(s, conversation_id)
            if before_message_id is None:
                path = tree.path_to(tree.leaf(conversation.active_leaf_id))
            elif before_message_id not in tree.by_id:
                raise NotFound(f"no message {before_message_id!r} in {conversation_id!r}")
            else:
                path = tree.path_to(before_message_id)[:-1]
            return _with_images(s, conversation_id, [message_dict(m) for m in path])


def _get(session: Session, model: type[_Row], key: str) -> _Row:
    found = session.get(model, key) if isinstance(key, str) else None
    if found is None:
        raise NotFound(f"no {model.__name__.lower()} {key!r}")
    return found


def _active_leaf(session: Session, conversation: Conversation) -> str | None:
    """The stored active leaf if it still exists (an import may rename ids), else the newest."""
    if conversation.active_leaf_id and session.get(Message, conversation.active_leaf_id):
        return conversation.active_leaf_id
    newest = select(Message.id).where(Message.conversation_id == conversation.id)
    return session.scalar(newest.order_by(Message.position.desc()).limit(1))


def _with_path(session: Session, conversation: Conversation, tree: Tree) -> dict[str, Any]:
    """The conversation with its active path as `messages`."""
    path = tree.path_dicts(tree.leaf(conversation.active_leaf_id))
    messages = _with_images(session, conversation.id, path)
    return {**conversation_dict(conversation, len(tree.rows)), "messages": messages}


def _with_images(
    session: Session, conversation_id: str, messages: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """`images` (id, mime, size) on the messages that have some."""
    found = image_rows.conversation_images(session, conversation_id) if messages else {}
    for message in messages:
        if message["id"] in found:
            message["images"] = found[message["id"]]
    return messages


def _count_messages(session: Session, conversation_id: str) -> int:
    stmt = select(func.count()).select_from(Message)
    return session.scalar(stmt.where(Message.conversation_id == conversation_id)) or 0
