"""Watching a conversation: a socket follows every reply streaming in it, whoever started it.

`{"type": "conversation.watch", "conversation_id": ID}` is answered with
`{"type": "conversation.watching", "conversation_id": ID, "streaming": [MESSAGE_ID, …]}`;
from then on the socket gets the frames of every reply in that conversation: those
already streaming (from their `start`, the text so far in one `chunk`) and those started
later by any socket or window. `conversation.unwatch` stops following new replies. A
reply is sent to a socket once, however many ways the socket asked for it.
"""

from __future__ import annotations

from typing import Any

from backend.core.errors import NotFound
from backend.core.events import Event
from backend.core.topics import REPLY_STARTED
from backend.web.frames import FrameSocket, Handler, field
from backend.web.locked_set import LockedSet


class Watcher:
    """The conversations one socket watches, and its subscription to replies starting."""

    def __init__(self, socket: FrameSocket) -> None:
        self.socket = socket
        self.conversations: LockedSet[str] = LockedSet()
        unsubscribe = socket.services.bus.subscribe(
            self._on_started, topics=(REPLY_STARTED,), name="watch"
        )
        socket.on_close.append(unsubscribe)

    def _on_started(self, event: Event) -> None:
        watched = event.payload.get("conversation_id") in self.conversations
        if watched and self.socket.open:
            self.socket.follow(event.payload["reply"])


def _watcher(socket: FrameSocket) -> Watcher:
    """The socket's watcher, made (and subscribed) at its first watch."""
    # Frames of one socket are handled on its receive thread, one at a time: no race here.
    if socket.watcher is None:
        socket.watcher = Watcher(socket)
    return socket.watcher


def watch(socket: FrameSocket, frame: dict[str, Any]) -> None:
    conversation_id = field(frame, "conversation_id", str)
    # Ids are hex: anything else names no conversation (and a lone surrogate breaks SQLite).
    if not conversation_id.isascii():
        raise NotFound(f"No conversation {conversation_id!r}")
    socket.services.store.get_conversation(conversation_id, with_messages=False)  # or NotFound
    # Watch first, then list: a reply registered before the listing is in it, and one
    # registered after it is published after the watch began. `follow` drops doubles.
    _watcher(socket).conversations.add(conversation_id)
    streaming = socket.services.chat.active(conversation_id)
    socket.send(
        {
            "type": "conversation.watching",
            "conversation_id": conversation_id,
            "streaming": [reply.message_id for reply in streaming],
        }
    )
    for reply in streaming:
        socket.follow(reply)


def unwatch(socket: FrameSocket, frame: dict[str, Any]) -> None:
    conversation_id = field(frame, "conversation_id", str)
    if socket.watcher is not None:
        socket.watcher.conversations.discard(conversation_id)
    socket.send({"type": "conversation.unwatched", "conversation_id": conversation_id})


HANDLERS: dict[str, Handler] = {"conversation.watch": watch, "conversation.unwatch": unwatch}
