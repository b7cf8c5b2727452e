"""The provider-neutral errors: every provider raises these (or subclasses of them).

The monitor tells "unreachable" from "answered but broken" by these classes, so a new
provider works with it without the monitor knowing its name.
"""

from __future__ import annotations

from backend.core.errors import AppError


class ProviderUnavailable(AppError):
    """The server could not be reached: refused, unreachable, timed out, or the socket died."""

    code = "endpoint_unavailable"
    http_status = 503


class ProviderAnswerError(AppError):
    """The server answered, but wrongly: an HTTP error status, an error inside a stream that
    had started, or a broken protocol (the monitor's "answered but broken")."""

    http_status = 502


class ProviderHTTPError(ProviderAnswerError):
    """The server answered with an HTTP error status."""

    code = "endpoint_error"

    def __init__(self, message: str, *, status: int, code: str | None = None) -> None:
        super().__init__(message, code=code or self.code_for_status(status, message))
        self.status = status

    @staticmethod
    def code_for_status(status: int, message: str) -> str | None:
        """A provider's own code for a status and message (None: the class's `code`)."""
        return None


class ProviderStreamError(ProviderAnswerError):
    """The server reported an error inside a stream that had started."""

    code = "endpoint_stream_error"


class ProviderProtocolError(ProviderAnswerError):
    """The answer broke the server's protocol: a malformed event, or an early end."""

    code = "endpoint_protocol_error"
