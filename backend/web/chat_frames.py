"""Frames of the streaming core: chat.send, chat.cancel, ping, subscribe."""

from __future__ import annotations

from typing import Any

from backend.core.errors import BadRequest
from backend.web.frames import field, handles

# Conversation events go only to sockets that ask (`{"type": "subscribe", "events":
# ["conversations"]}`), so a plain client sees nothing but the contract's frames.
OPTIONAL_EVENTS = {"conversations": "conversation."}


@handles("chat.send")
def chat_send(socket: Any, frame: dict[str, Any]) -> None:
    reply = socket.services.chat.send(
        field(frame, "conversation_id", str, optional=True),
        field(frame, "content", str),
        model=field(frame, "model", str, optional=True),
        options=field(frame, "options", dict, optional=True),
        request_id=field(frame, "request_id", str),
        think=field(frame, "think", bool, optional=True),
        auto_title=bool(field(frame, "auto_title", bool, optional=True)),
    )
    socket.follow(reply)


@handles("chat.cancel")
def chat_cancel(socket: Any, frame: dict[str, Any]) -> None:
    socket.services.chat.cancel(field(frame, "message_id", str))


@handles("ping")
def ping(socket: Any, frame: dict[str, Any]) -> None:
    socket.send({"type": "pong"})


@handles("subscribe")
def subscribe(socket: Any, frame: dict[str, Any]) -> None:
    names = field(frame, "events", list)
    unknown = [name for name in names if not isinstance(name, str) or name not in OPTIONAL_EVENTS]
    if unknown:
        raise BadRequest(f"Unknown event group(s): {unknown}", code="invalid_field")
    socket.wanted_prefixes.update(OPTIONAL_EVENTS[name] for name in names)
