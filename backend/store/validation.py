"""Checks on values that come from users (through REST or the WebSocket) and the chat service."""

from __future__ import annotations

from typing import Any

from backend.errors import BadRequest
from backend.store.models import TITLE_MAX


def escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def check_choice(name: str, value: object, allowed: frozenset[str]) -> None:
    if value not in allowed:
        raise BadRequest(f"{name} must be one of {', '.join(sorted(allowed))}, not {value!r}")


def check_text(name: str, value: object, *, optional: bool = False) -> None:
    if not (isinstance(value, str) or (optional and value is None)):
        raise BadRequest(f"{name} must be a string")


def conversation_fields(**fields: Any) -> dict[str, Any]:
    """Validated editable fields; a title is trimmed, non-empty and at most 500 chars."""
    if "title" in fields:
        title = fields["title"]
        check_text("title", title)
        title = title.strip()
        if not title:
            raise BadRequest("title must not be empty")
        if len(title) > TITLE_MAX:
            raise BadRequest(f"title is longer than {TITLE_MAX} characters")
        fields["title"] = title
    for name in ("model", "system_prompt"):
        if name in fields:
            check_text(name, fields[name], optional=True)
    return fields
