"""NDJSON framing of a streamed answer: its lines, each at most `MAX_LINE_BYTES` long."""

from __future__ import annotations

from collections.abc import Iterator

from backend.core.providers.ollama.types import OllamaProtocolError

# One line is one token (or a progress tick) and its metadata: a few hundred bytes. 4 MiB
# is far more than any real line, and small enough that a peer that never sends a newline
# cannot make the app hold more than this of it.
MAX_LINE_BYTES = 4 * 1024 * 1024


def line_too_long(limit: int) -> OllamaProtocolError:
    return OllamaProtocolError(
        f"Ollama sent a line longer than {limit // (1024 * 1024)} MiB; the reply was cut short"
    )


def line_batches(chunks: Iterator[bytes], limit: int = MAX_LINE_BYTES) -> Iterator[list[bytes]]:
    """The complete, non-blank lines of each chunk read, as one list per read.

    The unfinished tail is kept as a list of pieces and joined once, when its newline
    comes: linear in the bytes received however the peer splits them.
    """
    pending: list[bytes] = []
    pending_size = 0
    for chunk in chunks:
        if b"\n" not in chunk:
            pending_size += len(chunk)
            if pending_size > limit:
                raise line_too_long(limit)
            pending.append(chunk)
            continue
        if pending:
            pending.append(chunk)
            chunk = b"".join(pending)
        lines = chunk.split(b"\n")
        tail = lines.pop()
        pending, pending_size = ([tail], len(tail)) if tail else ([], 0)
        if pending_size > limit:
            raise line_too_long(limit)
        if len(chunk) > limit and any(len(line) > limit for line in lines):
            raise line_too_long(limit)
        batch = [line for line in lines if line.strip()]
        if batch:
            yield batch
    last = b"".join(pending)
    if last.strip():
        yield [last]


def split_lines(chunks: Iterator[bytes], limit: int = MAX_LINE_BYTES) -> Iterator[bytes]:
    """The complete, non-blank lines, one at a time."""
    for batch in line_batches(chunks, limit):
        yield from batch
