"""Client frame types and their handlers: each feature registers its own in its module."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from backend.core.errors import BadRequest

Handler = Callable[[Any, dict[str, Any]], None]  # (ClientSocket, frame)
HANDLERS: dict[str, Handler] = {}


def handles(kind: str) -> Callable[[Handler], Handler]:
    """Register a handler for frames of one `type`."""

    def register(handler: Handler) -> Handler:
        if kind in HANDLERS:
            raise ValueError(f"two handlers for frame type {kind!r}")
        HANDLERS[kind] = handler
        return handler

    return register


def field(frame: dict[str, Any], name: str, kind: type, *, optional: bool = False) -> Any:
    """A frame's field, checked: missing or ill-typed fields are the client's error."""
    value = frame.get(name)
    if value is None:
        if optional:
            return None
        raise BadRequest(f"`{name}` is required", code="missing_field")
    if not isinstance(value, kind) or (kind in (int, float) and isinstance(value, bool)):
        raise BadRequest(f"`{name}` must be a {kind.__name__}", code="invalid_field")
    if kind is str:
        check_text(value, name)
    return value


def check_text(value: str, name: str) -> None:
    """JSON can carry lone surrogates ("\\ud800"), which are not text: refuse them here."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise BadRequest(f"`{name}` is not valid Unicode text", code="invalid_text") from exc
