"""Ollama's NDJSON streams: lines split per network read, parsed into typed events."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Self

from backend.core.errors import AppError
from backend.core.json_text import loads
from backend.core.providers.abort import StreamAbort
from backend.core.providers.base import ChatDone, ChatEvent, ContentDelta, ThinkingDelta
from backend.core.providers.ollama.types import (
    OllamaProtocolError,
    OllamaStreamError,
)


def line_batches(chunks: Iterator[bytes]) -> Iterator[list[bytes]]:
    """The complete, non-blank lines of each chunk read, as one list per read."""
    pending = b""
    for chunk in chunks:
        if b"\n" not in chunk:
            pending += chunk
            continue
        lines = (pending + chunk).split(b"\n")
        pending = lines.pop()
        batch = [line for line in lines if line.strip()]
        if batch:
            yield batch
    if pending.strip():
        yield [pending]


def split_lines(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """The complete, non-blank lines, one at a time."""
    for batch in line_batches(chunks):
        yield from batch


class _Stream:
    """An iterator over one streamed request; the request is made on the first next()."""

    def __init__(self, events: Iterator[Any], abort: StreamAbort) -> None:
        # The generator holds `abort`, not `self`: dropping the stream frees it at once,
        # and freeing it closes the HTTP response (Ollama then stops generating).
        self._events = events
        self._abort = abort

    def __iter__(self) -> Self:
        return self

    def __next__(self) -> Any:
        return next(self._events)

    @property
    def aborted(self) -> bool:
        return self._abort.aborted

    def close(self) -> None:
        """Close the HTTP response; from another thread this falls back to abort()."""
        try:
            self._events.close()
        except ValueError:  # "generator already executing": another thread is reading
            self.abort()

    def abort(self) -> None:
        """From any thread: shut the socket down so a blocked read returns at once; the
        reading thread then sees the stream simply end, and closes the response."""
        self._abort.abort()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ChatStream(_Stream):
    """ChatEvents, one per NDJSON line. A line with no text (a tool call) yields nothing.

    `batches()` hands out the same events one network read at a time: a fast stream brings
    dozens of lines per read, and a consumer with a cost per call (a lock, a clock, a
    store check) then pays it once per read instead of once per token.
    """

    def __init__(self, batches: Iterator[list[ChatEvent]], abort: StreamAbort) -> None:
        super().__init__(batches, abort)
        self._ready: list[ChatEvent] = []  # the current read's events not yet returned, reversed

    def __next__(self) -> ChatEvent:
        while not self._ready:
            self._ready = next(self._events)[::-1]
        return self._ready.pop()

    def batches(self) -> Iterator[list[ChatEvent]]:
        """Lists of events, one per network read, in order; never an empty list."""
        if self._ready:
            ready, self._ready = self._ready[::-1], []
            yield ready
        yield from self._events

    def close(self) -> None:
        self._ready = []
        super().close()


class PullStream(_Stream):
    """Progress dicts `{status, digest?, total?, completed?}`, one per NDJSON line."""

    def __next__(self) -> dict[str, Any]:
        return next(self._events)


def _malformed(line: bytes) -> OllamaProtocolError:
    # The line may hold model output: say what is wrong with it, never what it says.
    return OllamaProtocolError(
        f"Ollama sent a broken line ({len(line)} bytes that are not a JSON object); "
        "the reply was cut short"
    )


def decode_line(line: bytes) -> dict:
    try:
        obj = loads(line)
    except ValueError as exc:
        raise _malformed(line) from exc
    if type(obj) is not dict:
        raise _malformed(line)
    return obj


def chat_batches(batches: Iterator[list[bytes]], abort: StreamAbort) -> Iterator[list[ChatEvent]]:
    """The hot loop: one JSON parse and a few dict lookups per token, a list per read.

    The events before a broken or error line come out before its error, as they would
    one by one.
    """
    try:
        for lines in batches:
            events: list[ChatEvent] = []
            failure: AppError | None = None
            for line in lines:
                try:
                    obj = loads(line)
                except ValueError as exc:
                    failure = _malformed(line)
                    failure.__cause__ = exc
                    break
                if type(obj) is not dict:
                    failure = _malformed(line)
                    break
                if "error" in obj:
                    failure = OllamaStreamError(str(obj["error"]))
                    break
                message = obj.get("message")
                if message:
                    if thinking := message.get("thinking"):
                        events.append(ThinkingDelta(thinking))
                    if content := message.get("content"):
                        events.append(ContentDelta(content))
                if obj.get("done"):
                    events.append(_chat_done(obj))
                    yield events
                    return
            if events:
                yield events
            if failure is not None:
                raise failure
        if not abort.aborted:
            raise OllamaProtocolError("Ollama's reply ended without its final (done) line")
    finally:
        batches.close()  # type: ignore[attr-defined]


def pull_events(lines: Iterator[bytes], abort: StreamAbort) -> Iterator[dict[str, Any]]:
    try:
        for line in lines:
            obj = decode_line(line)
            if "error" in obj:
                raise OllamaStreamError(str(obj["error"]))
            yield obj
            if obj.get("status") == "success":
                return
        if not abort.aborted:
            raise OllamaProtocolError("Ollama's pull ended without success")
    finally:
        lines.close()  # type: ignore[attr-defined]


def _chat_done(obj: dict) -> ChatDone:
    def count(key: str) -> int:
        value = obj.get(key)
        return value if type(value) is int else 0

    return ChatDone(
        done_reason=str(obj.get("done_reason") or "stop"),
        eval_count=count("eval_count"),
        prompt_eval_count=count("prompt_eval_count"),
        total_duration=count("total_duration"),
        load_duration=count("load_duration"),
        prompt_eval_duration=count("prompt_eval_duration"),
        eval_duration=count("eval_duration"),
    )
