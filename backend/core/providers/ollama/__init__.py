"""A thin, typed client for Ollama's HTTP API."""

from backend.core.providers.ollama.client import OllamaClient
from backend.core.providers.ollama.types import (
    ChatDone,
    ChatEvent,
    ContentDelta,
    Model,
    OllamaError,
    OllamaProtocolError,
    OllamaStreamError,
    OllamaUnavailable,
    ThinkingDelta,
)

__all__ = [
    "ChatDone",
    "ChatEvent",
    "ContentDelta",
    "Model",
    "OllamaClient",
    "OllamaError",
    "OllamaProtocolError",
    "OllamaStreamError",
    "OllamaUnavailable",
    "ThinkingDelta",
]
