"""Which images the app takes, told by their first bytes (their magic numbers), not names."""

from __future__ import annotations

import base64

IMAGE_TYPES = ("image/png", "image/jpeg", "image/webp", "image/gif")


def image_type(head: bytes) -> str | None:
    """The image's MIME type from its first 12 bytes, or None for anything else."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def base64_type(encoded: str) -> str | None:
    """The MIME type of a base64 image, from its first 16 characters (12 bytes)."""
    try:
        return image_type(base64.b64decode(encoded[:16], validate=True))
    except ValueError:
        return None
