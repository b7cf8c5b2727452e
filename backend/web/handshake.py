"""A WebSocket opening handshake checked before the WebSocket library sees it (RFC 6455
4.2.1): a request it cannot answer is a client's mistake, a 400, never a crash."""

from __future__ import annotations

import base64
import binascii

from flask import Request

from backend.core.errors import BadRequest


def check_handshake(request: Request) -> None:
    """Raise BadRequest unless `request` is a WebSocket upgrade the server can complete."""
    if request.headers.get("Upgrade", "").strip().lower() != "websocket":
        raise _bad("the request does not ask to upgrade to a WebSocket")
    if "upgrade" not in _tokens(request.headers.get("Connection", "")):
        raise _bad("the Connection header does not say upgrade")
    if not _is_nonce(request.headers.get("Sec-WebSocket-Key", "")):
        raise _bad("Sec-WebSocket-Key must be 16 bytes in base64")
    if request.headers.get("Sec-WebSocket-Version", "").strip() != "13":
        raise _bad("Sec-WebSocket-Version must be 13")


def _tokens(header: str) -> set[str]:
    return {part.strip().lower() for part in header.split(",")}


def _is_nonce(key: str) -> bool:
    try:
        return len(base64.b64decode(key.strip(), validate=True)) == 16
    except (binascii.Error, ValueError):
        return False


def _bad(problem: str) -> BadRequest:
    return BadRequest(f"Not a WebSocket handshake: {problem}", code="bad_handshake")
