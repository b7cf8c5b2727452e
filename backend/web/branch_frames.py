"""Frames that branch a conversation (regenerate a reply, edit a message of the user's) or
carry on a reply that stopped early (continue).

All answer like `chat.send`: a `start` frame (with `parent_id` and `sibling_of`), `chunk`s
and one final frame, or an `error` frame when the request itself is refused.
"""

from __future__ import annotations

from typing import Any

from backend.web.frames import FrameSocket, Handler, field


def _reply_settings(frame: dict[str, Any]) -> dict[str, Any]:
    """The per-message settings every reply-starting frame may carry."""
    return {
        "request_id": field(frame, "request_id", str),
        "model": field(frame, "model", str, optional=True),
        "options": field(frame, "options", dict, optional=True),
        "think": field(frame, "think", bool, optional=True),
        "auto_title": bool(field(frame, "auto_title", bool, optional=True)),
        "endpoint_id": field(frame, "endpoint_id", str, optional=True),
    }


def chat_regenerate(socket: FrameSocket, frame: dict[str, Any]) -> None:
    reply = socket.services.chat.regenerate(
        field(frame, "message_id", str), **_reply_settings(frame)
    )
    socket.follow(reply)


def chat_edit(socket: FrameSocket, frame: dict[str, Any]) -> None:
    reply = socket.services.chat.edit(
        field(frame, "message_id", str),
        field(frame, "content", str),
        # Absent: the edited copy keeps the original's images; a list replaces them.
        images=field(frame, "images", list, optional=True),
        **_reply_settings(frame),
    )
    socket.follow(reply)


def chat_continue(socket: FrameSocket, frame: dict[str, Any]) -> None:
    reply = socket.services.chat.continue_reply(
        field(frame, "message_id", str),
        request_id=field(frame, "request_id", str),
        options=field(frame, "options", dict, optional=True),
        think=field(frame, "think", bool, optional=True),
    )
    socket.follow(reply)


HANDLERS: dict[str, Handler] = {
    "chat.regenerate": chat_regenerate,
    "chat.edit": chat_edit,
    "chat.continue": chat_continue,
}
