"""Small real image files for tests (built here: no binary fixtures in the repository)."""

from __future__ import annotations

import struct
import zlib

# A 1x1 GIF and the first bytes of a JPEG and a WebP: the app tells types by these bytes.
GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)
JPEG_HEAD = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
WEBP_HEAD = b"RIFF\x24\x00\x00\x00WEBPVP8 \x18\x00\x00\x00"


def png(width: int = 8, height: int = 8, rgb: tuple[int, int, int] = (200, 60, 30)) -> bytes:
    """A real PNG of one colour that browsers decode."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )
