"""Every error answer is JSON: {"error": {"code", "message"}}."""

from __future__ import annotations

import logging
import re

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

from backend.core.errors import AppError

log = logging.getLogger("cloudtolocalllm.web")


def error_response(code: str, message: str, status: int):
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = status
    return response


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(AppError)
    def _app_error(exc: AppError):
        return error_response(exc.code, exc.message, exc.http_status)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        code = re.sub(r"[^a-z0-9]+", "_", (exc.name or "error").lower()).strip("_")
        return error_response(code, exc.description or exc.name, exc.code or 500)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        # The one place an unknown failure is caught: log it, answer JSON, keep serving.
        log.exception("unhandled error")
        return error_response("internal_error", "Something went wrong in the app", 500)
