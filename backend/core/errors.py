"""The few error types of the core; the web edge translates them to JSON and frames."""

from __future__ import annotations


class AppError(Exception):
    """An error with a stable snake_case code that the edges show to the user."""

    code = "internal_error"
    http_status = 500

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class BadRequest(AppError):
    code = "bad_request"
    http_status = 400


class NotFound(AppError):
    code = "not_found"
    http_status = 404


class Busy(AppError):
    code = "busy"
    http_status = 409
