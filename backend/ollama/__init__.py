"""A thin, typed client for Ollama's HTTP API."""

from backend.ollama.client import OllamaClient
from backend.ollama.types import (
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
