"""Messages as a tree: the active path, alternatives (siblings), subtrees, branch switching.

An edit or a regeneration adds a sibling (same parent) instead of overwriting, so a
conversation is a tree and the UI shows one path through it, root to `active_leaf_id`.
Everything here works on one conversation's messages read in `position` order by one
indexed query: a child is always created after its parent, so positions rise along
every path, and conversations are small enough that walking them in memory beats a
recursive query per step.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from backend.core.errors import NotFound
from backend.core.store.models import (
    MESSAGE_ROW_COLUMNS,
    Conversation,
    Message,
    MessageRow,
    message_dict,
)


class Tree:
    """One conversation's messages, indexed by id and by parent."""

    def __init__(self, rows: Sequence[MessageRow]) -> None:
        self.rows = list(rows)
        self.by_id = {m.id: m for m in self.rows}
        self.children: dict[str | None, list[str]] = {}
        for m in self.rows:  # in position order, so each list is oldest first
            self.children.setdefault(m.parent_id, []).append(m.id)

    def leaf(self, wanted: str | None) -> str | None:
        """The active leaf: `wanted` if it exists, else the newest message (or None)."""
        if wanted in self.by_id:
            return wanted
        return self.rows[-1].id if self.rows else None

    def path_to(self, message_id: str | None) -> list[MessageRow]:
        """Root to `message_id`, oldest first; empty for None."""
        path: list[MessageRow] = []
        seen: set[str] = set()
        node = self.by_id.get(message_id) if message_id else None
        while node is not None and node.id not in seen:  # `seen`: safe on a corrupt file
            seen.add(node.id)
            path.append(node)
            node = self.by_id.get(node.parent_id) if node.parent_id else None
        path.reverse()
        return path

    def subtree(self, root_id: str) -> list[str]:
        """`root_id` and every message below it."""
        found, queue = [], [root_id]
        while queue:
            current = queue.pop()
            found.append(current)
            queue.extend(self.children.get(current, ()))
        return found

    def newest_leaf(self, root_id: str) -> str:
        """The newest message at or below `root_id`; being newest, it has no children."""
        return max(self.subtree(root_id), key=lambda i: self.by_id[i].position)

    def path_dicts(self, leaf_id: str | None) -> list[dict[str, Any]]:
        """The path as the API shows it; `siblings` only on messages with alternatives."""
        shown = []
        for message in self.path_to(leaf_id):
            item = message_dict(message)
            siblings = self.children.get(message.parent_id, [])
            if len(siblings) > 1:
                item["siblings"] = list(siblings)
            shown.append(item)
        return shown


def load_tree(session: Session, conversation_id: str) -> Tree:
    """The conversation's messages as read-only named tuples: they read like the ORM's
    objects at a fraction of the cost (opening a long chat reads thousands)."""
    stmt = select(*MESSAGE_ROW_COLUMNS).where(Message.conversation_id == conversation_id)
    rows = session.execute(stmt.order_by(Message.position))
    return Tree([MessageRow._make(row) for row in rows])


def message_in(session: Session, message_id: str) -> tuple[Message, Conversation, Tree]:
    """A message, its conversation and that conversation's tree; NotFound if unknown."""
    message = session.get(Message, message_id) if isinstance(message_id, str) else None
    if message is None:
        raise NotFound(f"no message {message_id!r}")
    conversation = session.get(Conversation, message.conversation_id)
    assert conversation is not None  # the foreign key guarantees it
    return message, conversation, load_tree(session, conversation.id)


def activate(session: Session, message_id: str) -> tuple[Conversation, Tree]:
    """Make the path through `message_id` active, down to the newest leaf below it."""
    message, conversation, tree = message_in(session, message_id)
    conversation.active_leaf_id = tree.newest_leaf(message.id)
    return conversation, tree


def delete_subtree(session: Session, message_id: str, now: datetime) -> tuple[Conversation, Tree]:
    """Delete a message and everything below it; the active path moves if it was in there."""
    message, conversation, tree = message_in(session, message_id)
    doomed = set(tree.subtree(message.id))
    stmt = delete(Message).where(Message.id.in_(doomed))
    session.execute(stmt.execution_options(synchronize_session=False))
    remaining = Tree([m for m in tree.rows if m.id not in doomed])
    if tree.leaf(conversation.active_leaf_id) in doomed:
        # Stay as close as possible: the newest branch under the deleted message's parent.
        parent = message.parent_id
        conversation.active_leaf_id = (
            remaining.newest_leaf(parent) if parent in remaining.by_id else remaining.leaf(None)
        )
    conversation.updated_at = now
    return conversation, remaining
