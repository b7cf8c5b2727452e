"""The relay setting: which relay the desktop connects out to."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from backend.core.errors import BadRequest


def normalise_relay_url(value: Any) -> str | None:
    """An http(s) or ws(s) URL as http(s) (the page's address), or None; else BadRequest."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    parts = urlsplit(value.strip()) if isinstance(value, str) else None
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme) if parts else ""
    if scheme not in ("http", "https") or not parts.hostname:
        raise BadRequest("relay_url must be an http(s) or ws(s) URL", code="invalid_setting")
    return f"{scheme}://{parts.netloc}{parts.path.rstrip('/')}"
