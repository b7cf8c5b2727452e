"""What an endpoint is (a model server the user added) and how its fields are checked."""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit

from backend.core.errors import BadRequest

KINDS = ("ollama", "openai")  # the contract's endpoint kinds
OLLAMA_ID = "ollama"  # the endpoint of --ollama-url / the settings' Ollama address
NAME_MAX = 100
URL_MAX = 2000


@dataclass(frozen=True)
class Endpoint:
    id: str
    name: str
    kind: str
    base_url: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def new_id() -> str:
    return "ep_" + secrets.token_hex(6)


def check_name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise BadRequest("`name` must be a non-empty string", code="bad_endpoint")
    if len(value.strip()) > NAME_MAX:
        raise BadRequest(f"`name` is longer than {NAME_MAX} characters", code="bad_endpoint")
    return value.strip()


def check_kind(value: Any) -> str:
    if value not in KINDS:
        raise BadRequest(f"`kind` must be one of {', '.join(KINDS)}", code="bad_endpoint")
    return value


def check_base_url(value: Any) -> str:
    """An http(s) URL with a host and nothing after its path; without a trailing slash.

    Credentials in the URL are refused: a key goes in `api_key`, which is kept secret,
    while the URL is shown and exported."""
    if not isinstance(value, str) or not value.strip() or len(value) > URL_MAX:
        raise _bad_url()
    try:
        parts = urlsplit(value.strip())
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as exc:
        raise _bad_url() from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _bad_url()
    if parts.username or parts.password or parts.query or parts.fragment:
        raise _bad_url()
    return value.strip().rstrip("/")


def check_api_key(value: Any) -> str | None:
    """A key, or None for "no key"; printable ASCII only, as an HTTP header needs."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > 4096 or not value.isprintable():
        raise BadRequest("`api_key` must be a short printable string", code="bad_endpoint")
    if not value.isascii() or value != value.strip():
        raise BadRequest("`api_key` must be ASCII without spaces around", code="bad_endpoint")
    return value


def _bad_url() -> BadRequest:
    return BadRequest(
        "`base_url` must be an http:// or https:// URL with a host, like "
        "http://127.0.0.1:1234/v1 (no user, password, query or fragment)",
        code="bad_endpoint",
    )
