"""A desktop proves it owns its id: the id is its Ed25519 public key, and it signs a challenge."""

from __future__ import annotations

import base64
import binascii
import os

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

# Signed with the nonce, so a signature made for anything else is never accepted here.
CHALLENGE_CONTEXT = b"cloudtolocalllm-relay-auth-v1\x00"
NONCE_BYTES = 32


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    """Decode unpadded base64url, or raise ValueError."""
    if not isinstance(text, str) or not text.isascii():
        raise ValueError("not base64url text")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except binascii.Error as exc:
        raise ValueError("not base64url text") from exc


def new_nonce() -> bytes:
    return os.urandom(NONCE_BYTES)


def is_desktop_id(text: object) -> bool:
    """Whether `text` looks like a desktop id: an Ed25519 public key in base64url."""
    if not isinstance(text, str) or len(text) != 43:
        return False
    try:
        return len(unb64url(text)) == 32
    except ValueError:
        return False


def verify_challenge(desktop_id: str, nonce: bytes, signature_b64: object) -> bool:
    """Whether `signature_b64` is the desktop's signature over this relay's challenge."""
    if not is_desktop_id(desktop_id) or not isinstance(signature_b64, str):
        return False
    try:
        signature = unb64url(signature_b64)
        key = Ed25519PublicKey.from_public_bytes(unb64url(desktop_id))
        key.verify(signature, CHALLENGE_CONTEXT + nonce)
    except (ValueError, InvalidSignature):
        return False
    return True
