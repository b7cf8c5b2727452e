"""A client for OpenAI-compatible servers: the second `Provider`."""

from backend.core.providers.openai.client import OpenAIClient
from backend.core.providers.openai.types import (
    EndpointError,
    EndpointProtocolError,
    EndpointStreamError,
    EndpointUnavailable,
)

__all__ = [
    "EndpointError",
    "EndpointProtocolError",
    "EndpointStreamError",
    "EndpointUnavailable",
    "OpenAIClient",
]
