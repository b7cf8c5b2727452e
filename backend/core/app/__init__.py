"""The application layer: every state change the app offers, each publishing its event.

The web edge (REST routes, WebSocket frame handlers) parses a request, calls one method
here (or of the chat service) and translates the result; it changes and publishes nothing.
"""

from backend.core.app.conversations import ConversationService, Download
from backend.core.app.models import ModelService
from backend.core.app.window import NoWindow, WindowRequests

__all__ = ["ConversationService", "Download", "ModelService", "NoWindow", "WindowRequests"]
