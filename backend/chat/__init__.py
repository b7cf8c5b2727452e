"""The chat service: from a user's message to a stored, streamed reply."""

from backend.chat.reply import Reply
from backend.chat.service import ChatService

__all__ = ["ChatService", "Reply"]
