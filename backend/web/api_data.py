"""All conversations in and out: `GET /api/export` and `POST /api/import`.

One conversation's export stays `GET /api/conversations/ID/export` in api.py.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, request

from backend.core.errors import AppError, BadRequest
from backend.web.api import download
from backend.web.bodies import parse_json
from backend.web.context import services

data_api = Blueprint("data_api", __name__, url_prefix="/api")

IMPORT_MAX_BYTES = 256 * 1024 * 1024


class ImportTooLarge(AppError):
    code = "import_too_large"
    http_status = 413


@data_api.get("/export")
def export_all():
    """Every conversation as one download, streamed from one snapshot of the database."""
    fmt = request.args.get("format", "json")
    return download(services().conversations.export_all(fmt, datetime.now(UTC)))


@data_api.post("/import")
def import_conversations():
    """An export document (or one exported conversation): all of it is imported, or none."""
    request.max_content_length = IMPORT_MAX_BYTES
    if (request.content_length or 0) > IMPORT_MAX_BYTES:
        raise ImportTooLarge(f"The file is larger than {IMPORT_MAX_BYTES // 2**20} MiB")
    raw = request.get_data(cache=False)
    if not raw.strip():
        raise BadRequest("The body is empty: send the JSON of an export file", code="invalid_json")
    return services().conversations.import_document(parse_json(raw)), 201
