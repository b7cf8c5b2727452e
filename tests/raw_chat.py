"""The fake Ollama's "raw script" switch: a streamed /api/chat answer sent byte for byte.

`fake.raw_chat = RawChat(pieces, end)` makes the next streamed chat answers exactly
`pieces`, each in a write (and an HTTP chunk) of its own, so a line can be split anywhere
across the client's network reads; then the stream ends as `end` says. The bytes are not
checked: broken JSON, wrong types, lone surrogates, lines of megabytes are the point.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from typing import Any, Literal

# "close": the terminating chunk, as a finished answer; "cut": the socket shut with no
# terminating chunk, as a crash; "hang": say nothing more until the client hangs up.
End = Literal["close", "cut", "hang"]
HANG_LIMIT_S = 120.0  # a hung answer still ends, so a broken test cannot hang the suite


@dataclass(frozen=True)
class RawChat:
    pieces: list[bytes] = field(default_factory=list)
    end: End = "close"


def send_raw_chat(handler: Any, script: RawChat) -> None:
    """Answer one streamed chat request with `script` (see the module docstring)."""
    handler.start_stream()
    try:
        for piece in script.pieces:
            if piece:  # an empty chunk would end the body early
                handler.wfile.write(b"%x\r\n%b\r\n" % (len(piece), piece))
        if script.end == "close":
            handler.wfile.write(b"0\r\n\r\n")
            return
        if script.end == "hang":
            _wait_for_hang_up(handler.connection)
    except OSError:
        pass  # the client went away (it was told enough, or gave up)
    handler.close_connection = True
    try:
        handler.connection.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def _wait_for_hang_up(conn: socket.socket) -> None:
    conn.settimeout(HANG_LIMIT_S)
    try:
        while conn.recv(65536):
            pass
    except OSError:
        pass
