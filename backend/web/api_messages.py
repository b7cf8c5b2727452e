"""Branches over REST: switch the visible path to another alternative, delete a subtree.

Both answer with the conversation (its `messages` being the new active path), and 409
`busy` while a reply streams in that conversation.
"""

from __future__ import annotations

from flask import Blueprint

from backend.web.context import services

messages_api = Blueprint("messages_api", __name__, url_prefix="/api")


@messages_api.post("/messages/<message_id>/activate")
def activate_message(message_id: str):
    return services().chat.activate(message_id)


@messages_api.delete("/messages/<message_id>")
def delete_message(message_id: str):
    return services().chat.delete_message(message_id)
