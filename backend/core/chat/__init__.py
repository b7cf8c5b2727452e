"""The chat service: from a user's message to a stored, streamed reply."""

from backend.core.chat.reply import Reply
from backend.core.chat.service import ChatService

__all__ = ["ChatService", "Reply"]
