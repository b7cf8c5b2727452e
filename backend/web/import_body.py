"""An import's body, read and parsed with its memory bounded by its size.

Parsed JSON costs about 1 KiB of memory per object however few bytes the object took in
the file, so a file of 400,000 tiny messages (13 MiB) would take ~40x its size. A real
export spends ~300 bytes on even an empty message: allowing one object per 256 bytes of
body (and a few thousand in any file, for small hand-made ones) keeps the parse within a
small multiple of the body, and refuses the hostile file early, mid-parse.
"""

from __future__ import annotations

from typing import Any, BinaryIO

from backend.core.errors import AppError, BadRequest
from backend.web.bodies import parse_json

IMPORT_MAX_BYTES = 256 * 1024 * 1024
BYTES_PER_OBJECT = 256
FREE_OBJECTS = 10_000
_READ = 1024 * 1024


class ImportTooLarge(AppError):
    code = "import_too_large"
    http_status = 413


def too_large(limit: int) -> ImportTooLarge:
    return ImportTooLarge(f"The file is larger than {limit // 2**20} MiB")


def read_body(stream: BinaryIO, declared: int | None) -> bytearray:
    """The whole body, or 413 as soon as it passes the limit (chunked bodies say no length).
    Grown in place: one copy of the body in memory, not its pieces and their join."""
    limit = IMPORT_MAX_BYTES
    if (declared or 0) > limit:
        raise too_large(limit)
    body = bytearray()
    while piece := stream.read(_READ):
        if len(body) + len(piece) > limit:
            raise too_large(limit)
        body += piece
    return body


NOT_AN_EXPORT = (
    "This is not a CloudToLocalLLM export. Import reads the JSON files the app exports; "
    "a Markdown export is for reading and cannot be imported."
)


def parse_document(raw: bytes | bytearray) -> Any:
    """The JSON document, refused with a 400 once it holds more objects than its size allows."""
    allowed = FREE_OBJECTS + len(raw) // BYTES_PER_OBJECT
    seen = 0

    def count(obj: dict[str, Any]) -> dict[str, Any]:
        nonlocal seen
        seen += 1
        if seen > allowed:
            raise _TooManyObjects
        return obj

    try:
        return parse_json(raw, object_hook=count)
    except BadRequest as exc:
        if exc.code != "invalid_json":
            raise
        # A Markdown export (or any other file) picked by mistake: say what import reads,
        # not where a JSON parser gave up.
        raise BadRequest(NOT_AN_EXPORT, code="invalid_json") from exc
    except _TooManyObjects:
        raise BadRequest(
            f"The file holds more objects (messages, conversations) than its size allows: "
            f"at most {FREE_OBJECTS} plus one per {BYTES_PER_OBJECT} bytes",
            code="invalid_import",
        ) from None


class _TooManyObjects(Exception):
    """Raised from inside the parser: unlike ValueError, it is not taken for bad JSON."""
