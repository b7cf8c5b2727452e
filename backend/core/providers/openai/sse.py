"""Server-sent events, parsed by the WHATWG HTML spec ("Parsing an event stream").

Network reads cut the stream anywhere: inside a line, between the CR and LF of a CRLF,
inside a multi-byte character. The decoder keeps what it has not finished between reads
and hands out the data of each complete event. Comments (`: keep-alive`) and the fields
a chat stream has no use for (`event`, `id`, `retry`) are dropped.
"""

from __future__ import annotations

_BOM = b"\xef\xbb\xbf"


class SSEDecoder:
    """Feed it the bytes of each read; it returns the data of the events they completed."""

    __slots__ = ("_pending", "_after_cr", "_started")

    def __init__(self) -> None:
        self._pending = b""  # the start of an event whose blank line has not arrived yet
        self._after_cr = False  # the last read ended with CR: a leading LF belongs to it
        self._started = False

    def feed(self, chunk: bytes) -> list[bytes]:
        """The data of every event completed by `chunk` (its lines joined with LF)."""
        if not self._started:
            chunk, self._pending = self._pending + chunk, b""
            if len(chunk) < len(_BOM) and _BOM.startswith(chunk):
                self._pending = chunk  # maybe the start of a byte order mark: wait
                return []
            self._started = True
            chunk = chunk.removeprefix(_BOM)
        if self._after_cr and chunk[:1] == b"\n":
            chunk = chunk[1:]
        self._after_cr = chunk[-1:] == b"\r"
        text = self._pending + chunk
        if b"\r" in text:  # the spec accepts CRLF, LF and a lone CR as line ends
            text = text.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        # A blank line ends an event, so each piece but the last is one event's lines.
        pieces = text.split(b"\n\n")
        self._pending = pieces.pop()
        events: list[bytes] = []
        for piece in pieces:
            if piece[:6] == b"data: " and b"\n" not in piece:  # the usual event, kept cheap
                events.append(piece[6:])
            else:
                _event_data(piece, events)
        return events

    def finish(self) -> bytes | None:
        """At the end of the stream: the data of an event left without its blank line.

        The spec drops such an event; a server that ends with `data: [DONE]` and no blank
        line still means it, so it is handed out."""
        last = self.feed(b"\n\n") if self._pending else []
        return last[-1] if last else None


def _event_data(piece: bytes, events: list[bytes]) -> None:
    """Add the data of the event(s) in `piece`, parsed line by line (several `data:`
    lines, comments, other fields, a leading blank line)."""
    data: list[bytes] = []
    for line in piece.split(b"\n") + [b""]:  # the piece ended with a blank line
        if not line:
            if data:
                events.append(b"\n".join(data))
                data = []
        elif line[:5] == b"data:":
            data.append(line[6:] if line[5:6] == b" " else line[5:])
        elif line == b"data":  # a field name alone has an empty value
            data.append(b"")
        # Anything else is a comment (':' first) or a field a chat has no use for.
