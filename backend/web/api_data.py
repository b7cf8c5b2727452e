"""All conversations in and out: `GET /api/export` and `POST /api/import`.

One conversation's export stays `GET /api/conversations/ID/export` in api.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import chain

from flask import Blueprint, Response, current_app, request

from backend.core.errors import AppError, BadRequest
from backend.core.store import transfer
from backend.web.bodies import parse_json

data_api = Blueprint("data_api", __name__, url_prefix="/api")

IMPORT_MAX_BYTES = 256 * 1024 * 1024


class ImportTooLarge(AppError):
    code = "import_too_large"
    http_status = 413


@data_api.get("/export")
def export_all():
    """Every conversation as one download, streamed from one snapshot of the database."""
    fmt = request.args.get("format", "json")
    store = current_app.extensions["cloudtolocalllm"].store
    now = datetime.now(UTC)
    if fmt == "json":
        chunks, mimetype, ext = transfer.iter_export_json(store, now), "application/json", "json"
    elif fmt in ("markdown", "md"):
        chunks, mimetype, ext = transfer.iter_export_markdown(store, now), "text/markdown", "md"
    else:
        raise BadRequest("`format` must be json or markdown", code="invalid_format")
    name = f"cloudtolocalllm-export-{now:%Y%m%d-%H%M%S}.{ext}"
    return Response(
        _started(chunks),
        mimetype=f"{mimetype}; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _started(chunks: Iterator[str]) -> Iterator[str]:
    """Open the database read now, so a failure is a JSON error and not a cut download."""
    first = next(chunks)
    return chain([first], chunks)


@data_api.post("/import")
def import_conversations():
    """An export document (or one exported conversation): all of it is imported, or none."""
    request.max_content_length = IMPORT_MAX_BYTES
    if (request.content_length or 0) > IMPORT_MAX_BYTES:
        raise ImportTooLarge(f"The file is larger than {IMPORT_MAX_BYTES // 2**20} MiB")
    raw = request.get_data(cache=False)
    if not raw.strip():
        raise BadRequest("The body is empty: send the JSON of an export file", code="invalid_json")
    document = parse_json(raw)
    services = current_app.extensions["cloudtolocalllm"]
    result = transfer.import_document(services.store, document)
    ids = [c["id"] for c in result["conversations"]]
    services.bus.publish("conversation.imported", {"ids": ids, "count": len(ids)})
    return result, 201
