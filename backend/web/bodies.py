"""Request bodies: JSON objects of real text, or a 400 that says what is wrong."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from flask import request

from backend.core.errors import BadRequest
from backend.core.json_text import utf8_size


def json_object(*, allow_empty: bool = False) -> dict[str, Any]:
    """The request's JSON object body (`{}` for an empty body when `allow_empty`)."""
    return parse_object(request.get_data(), allow_empty=allow_empty)


def parse_object(raw: bytes, *, allow_empty: bool = False) -> dict[str, Any]:
    if allow_empty and not raw.strip():
        return {}
    body = parse_json(raw)
    if not isinstance(body, dict):
        raise BadRequest("The body must be a JSON object", code="invalid_json")
    return body


def parse_json(raw: bytes | bytearray, object_hook: Callable[[dict], Any] | None = None) -> Any:
    """Any JSON value whose strings are all real text; NaN and Infinity are refused."""
    try:
        value = json.loads(raw, parse_constant=_no_constants, object_hook=object_hook)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        # RecursionError: nesting deeper than Python's parser goes is no body we serve.
        raise BadRequest(
            f"The body is not valid JSON: {_reason(exc)}", code="invalid_json"
        ) from exc
    if not _all_text(value):
        raise BadRequest("The body holds text that is not valid Unicode", code="invalid_text")
    return value


def _all_text(value: Any) -> bool:
    """False if any string (key or value) holds a lone surrogate such as "\\ud800"."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if utf8_size(item) is None:
                return False
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return True


def _no_constants(name: str) -> float:
    raise ValueError(f"{name} is not allowed in JSON")


def _reason(exc: BaseException) -> str:
    return "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
