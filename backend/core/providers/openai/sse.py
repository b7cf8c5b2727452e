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

    __slots__ = ("_pending", "_data", "_after_cr", "_started")

    def __init__(self) -> None:
        self._pending = b""  # the start of a line whose end has not arrived yet
        self._data: list[bytes] = []  # the data lines of the event being built
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
        lines = text.split(b"\n")
        self._pending = lines.pop()
        events: list[bytes] = []
        for line in lines:
            if not line:  # a blank line ends the event
                if self._data:
                    events.append(b"\n".join(self._data))
                    self._data = []
            elif line[0] != 0x3A:  # a line starting with ':' is a comment
                name, _, value = line.partition(b":")
                if name == b"data":
                    self._data.append(value[1:] if value[:1] == b" " else value)
        return events

    def finish(self) -> bytes | None:
        """At the end of the stream: the data of an event left without its blank line.

        The spec drops such an event; a server that ends with `data: [DONE]` and no blank
        line still means it, so it is handed out."""
        last = self.feed(b"\n\n") if (self._pending or self._data) else []
        return last[0] if last else None
