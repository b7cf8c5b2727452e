"""All conversations in and out: `GET /api/export` and `POST /api/import`.

One conversation's export stays `GET /api/conversations/ID/export` in api.py.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, request
from werkzeug.wsgi import get_input_stream

from backend.core.errors import BadRequest
from backend.web.api import download
from backend.web.context import services
from backend.web.import_body import parse_document, read_body

data_api = Blueprint("data_api", __name__, url_prefix="/api")


@data_api.get("/export")
def export_all():
    """Every conversation as one download, streamed from one snapshot of the database."""
    fmt = request.args.get("format", "json")
    return download(services().conversations.export_all(fmt, datetime.now(UTC)))


@data_api.post("/import")
def import_conversations():
    """An export document (or one exported conversation): all of it is imported, or none."""
    # The body unlimited by the app's 4 MiB: read_body holds the import's own limit.
    raw = read_body(
        get_input_stream(request.environ, max_content_length=None), request.content_length
    )
    if raw.isspace() or not raw:
        raise BadRequest("The body is empty: send the JSON of an export file", code="invalid_json")
    document = parse_document(raw)
    del raw  # the parsed document holds the text now
    return services().conversations.import_document(document), 201
