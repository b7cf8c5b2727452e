"""Checks on values that come from users (through REST or the WebSocket) and the chat service."""

from __future__ import annotations

import math
from typing import Any

from backend.core.errors import BadRequest
from backend.core.store.models import TITLE_MAX

# Ollama's model options that a conversation (or one message) may set, with their type and
# the range that makes sense; anything else is refused rather than silently ignored by
# Ollama. Ranges: (low, high), None for unbounded.
_INT, _FLOAT = "whole number", "number"
OPTION_RULES: dict[str, tuple[str, float | None, float | None]] = {
    "temperature": (_FLOAT, 0, None),
    "top_p": (_FLOAT, 0, 1),
    "top_k": (_INT, 0, None),
    "min_p": (_FLOAT, 0, 1),
    "typical_p": (_FLOAT, 0, 1),
    "repeat_penalty": (_FLOAT, 0, None),
    "repeat_last_n": (_INT, -1, None),
    "presence_penalty": (_FLOAT, None, None),
    "frequency_penalty": (_FLOAT, None, None),
    "mirostat": (_INT, 0, 2),
    "mirostat_tau": (_FLOAT, 0, None),
    "mirostat_eta": (_FLOAT, 0, None),
    "seed": (_INT, None, None),
    "num_ctx": (_INT, 1, None),
    "num_predict": (_INT, -2, None),  # -1: no limit, -2: until the context is full
    "num_keep": (_INT, -1, None),
}
MAX_STOP_SEQUENCES = 16


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
    if "options" in fields:
        fields["options"] = check_options(fields["options"]) or None
    if "think" in fields and not isinstance(fields["think"], bool | None):
        raise BadRequest("think must be true, false or null", code="invalid_field")
    if "pinned" in fields and not isinstance(fields["pinned"], bool):
        raise BadRequest("pinned must be true or false", code="invalid_field")
    if "endpoint_id" in fields:
        check_text("endpoint_id", fields["endpoint_id"], optional=True)
        if fields["endpoint_id"] == "ollama":  # the default is stored as NULL
            fields["endpoint_id"] = None
    return fields


def check_options(options: Any) -> dict[str, Any] | None:
    """Ollama options, checked key by key: unknown keys and ill-typed values are refused.

    Every bad option is named, not only the first (one message, the problems joined by
    "; "), so a form can flag each field at once.
    """
    if options is None:
        return None
    if not isinstance(options, dict):
        raise BadRequest("options must be an object", code="invalid_field")
    problems = []
    for key, value in options.items():
        try:
            _check_option(key, value)
        except BadRequest as exc:
            problems.append(exc.message)
    if problems:
        raise BadRequest("; ".join(problems), code="invalid_option")
    return dict(options)


def _check_option(key: str, value: Any) -> None:
    if key == "stop":
        _check_stop(value)
        return
    rule = OPTION_RULES.get(key)
    if rule is None:
        known = ", ".join([*OPTION_RULES, "stop"])
        raise BadRequest(f"Unknown option {key!r}; known: {known}", code="invalid_option")
    _check_number(key, value, *rule)


def _check_number(key: str, value: Any, kind: str, low: float | None, high: float | None) -> None:
    wrong_type = isinstance(value, bool) or not (
        isinstance(value, int) or (kind == _FLOAT and isinstance(value, float))
    )
    if wrong_type or (isinstance(value, float) and not math.isfinite(value)):
        raise BadRequest(f"Option {key!r} must be a {kind}", code="invalid_option")
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = f"at least {low}" if high is None else f"between {low} and {high}"
        if low is None:
            bounds = f"at most {high}"
        raise BadRequest(f"Option {key!r} must be {bounds}", code="invalid_option")


def _check_stop(value: Any) -> None:
    if (
        not isinstance(value, list)
        or len(value) > MAX_STOP_SEQUENCES
        or not all(isinstance(item, str) and item for item in value)
    ):
        raise BadRequest(
            f"Option 'stop' must be a list of at most {MAX_STOP_SEQUENCES} non-empty strings",
            code="invalid_option",
        )
