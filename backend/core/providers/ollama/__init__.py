"""A thin, typed client for Ollama's HTTP API: the first `Provider`."""

from backend.core.providers.ollama.client import OllamaClient
from backend.core.providers.ollama.types import (
    OllamaError,
    OllamaProtocolError,
    OllamaStreamError,
    OllamaUnavailable,
)

__all__ = [
    "OllamaClient",
    "OllamaError",
    "OllamaProtocolError",
    "OllamaStreamError",
    "OllamaUnavailable",
]
