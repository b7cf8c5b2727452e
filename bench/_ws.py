"""A lean, single-threaded WebSocket client for the benchmarks.

It reads frames straight off the socket in the calling thread, so what it measures is the
app, not a client library's reader thread and queue. Like a browser it offers
permessage-deflate, so the app compresses frames as it would for the real UI.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import struct
import zlib
from typing import Any
from urllib.parse import urlsplit

_TAIL = b"\x00\x00\xff\xff"  # removed by the sender of each deflated message (RFC 7692)


class RawWebSocket:
    def __init__(self, url: str, *, deflate: bool = True, timeout: float = 120.0) -> None:
        parts = urlsplit(url)
        self.sock = socket.create_connection((parts.hostname, parts.port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        key = base64.b64encode(os.urandom(16)).decode()
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        lines = [
            f"GET {target} HTTP/1.1",
            f"Host: {parts.hostname}:{parts.port}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key}",
            "Sec-WebSocket-Version: 13",
        ]
        if deflate:  # what Chromium offers
            lines.append("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits")
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.buf = bytearray()
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, _, rest = bytes(self.buf).partition(b"\r\n\r\n")
        self.buf = bytearray(rest)
        text = head.decode("latin-1").lower()
        if not text.startswith("http/1.1 101"):
            raise ConnectionError(f"handshake refused: {text.splitlines()[0]}")
        self.deflated = "permessage-deflate" in text
        self.fresh_context = "server_no_context_takeover" in text
        self._inflate = zlib.decompressobj(-zlib.MAX_WBITS)

    def _fill(self) -> None:
        data = self.sock.recv(262144)
        if not data:
            raise ConnectionError("the app closed the socket")
        self.buf += data

    def _take(self, n: int) -> bytes:
        while len(self.buf) < n:
            self._fill()
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def recv_text(self) -> str:
        """The next text message (pings and fragments handled)."""
        parts, compressed = [], False
        while True:
            b0, b1 = self._take(2)
            opcode, length = b0 & 0x0F, b1 & 0x7F
            if length == 126:
                length = struct.unpack("!H", self._take(2))[0]
            elif length == 127:
                length = struct.unpack("!Q", self._take(8))[0]
            payload = self._take(length)
            if opcode == 0x8:
                raise ConnectionError("the app closed the WebSocket")
            if opcode in (0x9, 0xA):
                continue  # ping/pong: the app sends none unasked
            if opcode == 0x1:
                compressed = bool(b0 & 0x40)
            parts.append(payload)
            if b0 & 0x80:
                break
        data = b"".join(parts)
        if compressed:
            if self.fresh_context:
                self._inflate = zlib.decompressobj(-zlib.MAX_WBITS)
            data = self._inflate.decompress(data + _TAIL)
        return data.decode()

    def recv(self) -> dict[str, Any]:
        return json.loads(self.recv_text())

    def send(self, frame: dict[str, Any]) -> None:
        payload = json.dumps(frame).encode()
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        n = len(payload)
        if n < 126:
            header = struct.pack("!BB", 0x81, 0x80 | n)
        elif n < 65536:
            header = struct.pack("!BBH", 0x81, 0x80 | 126, n)
        else:
            header = struct.pack("!BBQ", 0x81, 0x80 | 127, n)
        self.sock.sendall(header + mask + masked)

    def close(self) -> None:
        try:
            self.sock.sendall(struct.pack("!BB", 0x88, 0x80) + os.urandom(4))
        except OSError:
            pass
        self.sock.close()
