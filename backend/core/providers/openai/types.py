"""The OpenAI-compatible client's typed errors (its events are the providers' own)."""

from __future__ import annotations

from backend.core.providers.errors import (
    ProviderHTTPError,
    ProviderProtocolError,
    ProviderStreamError,
    ProviderUnavailable,
)


class EndpointUnavailable(ProviderUnavailable):
    """The server could not be reached: refused, unreachable, timed out, or the socket died."""


class EndpointError(ProviderHTTPError):
    """The server answered with an HTTP error and (usually) an `{"error": {...}}` body."""

    @staticmethod
    def code_for_status(status: int, message: str) -> str:
        """A missing model is a 404 whose message names the model."""
        if status == 404 and "model" in message.lower():
            return "model_not_found"
        codes = {
            400: "endpoint_bad_request",
            401: "endpoint_unauthorized",
            403: "endpoint_forbidden",
        }
        return codes.get(status, "endpoint_error")


class EndpointStreamError(ProviderStreamError):
    """A `data: {"error": ...}` event inside a stream that had started."""


class EndpointProtocolError(ProviderProtocolError):
    """A malformed event, or a stream that ended before `[DONE]`."""


def error_message(body: object) -> str | None:
    """The message of an OpenAI error body: `{"error": {"message"}}` or `{"error": "…"}`
    (both are in use), or a bare `{"message"}`."""
    if not isinstance(body, dict):
        return None
    error = body.get("error", body)
    if isinstance(error, dict):
        message = error.get("message") or error.get("detail")
        return str(message) if message else None
    return str(error) if error else None
