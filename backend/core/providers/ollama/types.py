"""The Ollama client's typed errors (its events are the providers' own, in `base.py`)."""

from __future__ import annotations

from backend.core.providers.errors import (
    ProviderHTTPError,
    ProviderProtocolError,
    ProviderStreamError,
    ProviderUnavailable,
)


class OllamaUnavailable(ProviderUnavailable):
    """Ollama could not be reached: refused, unreachable, timed out, or the socket died."""

    code = "ollama_unavailable"


class OllamaError(ProviderHTTPError):
    """Ollama answered with an HTTP error and its `{"error": …}` body."""

    code = "ollama_error"

    @staticmethod
    def code_for_status(status: int, message: str) -> str:
        """A missing model is a 404 whose message says "not found"."""
        if status == 404 and "not found" in message.lower():
            return "model_not_found"
        return {400: "ollama_bad_request", 404: "ollama_not_found", 503: "ollama_busy"}.get(
            status, "ollama_error"
        )


class OllamaStreamError(ProviderStreamError):
    """Ollama reported an error inside a stream that had started (`{"error": …}` line)."""

    code = "ollama_stream_error"


class OllamaProtocolError(ProviderProtocolError):
    """The stream broke Ollama's protocol: a malformed line, or it ended without `done`."""

    code = "ollama_protocol_error"
