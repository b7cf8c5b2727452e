"""Frames of the streaming core: chat.send, chat.cancel, ping, subscribe."""

from __future__ import annotations

from typing import Any

from backend.core.errors import BadRequest
from backend.core.topics import (
    CONVERSATION_EVENTS,
    ENDPOINT_EVENTS,
    MODELS_EVENTS,
    REMOTE_EVENTS,
    SETTINGS_EVENTS,
)
from backend.web.frames import FrameSocket, Handler, field

# Bus events go only to sockets that ask (`{"type": "subscribe", "events":
# ["conversations", "models", "settings", "endpoints", "remote"]}`), so a plain client sees
# nothing but the contract's frames.
OPTIONAL_EVENTS = {
    "conversations": CONVERSATION_EVENTS,
    "endpoints": ENDPOINT_EVENTS,
    "models": MODELS_EVENTS,
    "settings": SETTINGS_EVENTS,
    "remote": REMOTE_EVENTS,
}


def chat_send(socket: FrameSocket, frame: dict[str, Any]) -> None:
    reply = socket.services.chat.send(
        field(frame, "conversation_id", str, optional=True),
        field(frame, "content", str),
        model=field(frame, "model", str, optional=True),
        options=field(frame, "options", dict, optional=True),
        request_id=field(frame, "request_id", str),
        think=field(frame, "think", bool, optional=True),
        auto_title=bool(field(frame, "auto_title", bool, optional=True)),
        endpoint_id=field(frame, "endpoint_id", str, optional=True),
        images=field(frame, "images", list, optional=True),
    )
    socket.follow(reply)


def chat_cancel(socket: FrameSocket, frame: dict[str, Any]) -> None:
    socket.services.chat.cancel(field(frame, "message_id", str))


def ping(socket: FrameSocket, frame: dict[str, Any]) -> None:
    socket.send({"type": "pong"})


def subscribe(socket: FrameSocket, frame: dict[str, Any]) -> None:
    names = field(frame, "events", list)
    unknown = [name for name in names if not isinstance(name, str) or name not in OPTIONAL_EVENTS]
    if unknown:
        raise BadRequest(f"Unknown event group(s): {unknown}", code="invalid_field")
    socket.wanted_prefixes.update(OPTIONAL_EVENTS[name] for name in names)


HANDLERS: dict[str, Handler] = {
    "chat.send": chat_send,
    "chat.cancel": chat_cancel,
    "ping": ping,
    "subscribe": subscribe,
}
