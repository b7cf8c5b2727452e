"""The stream objects every provider hands out: lazy, closable, abortable from any thread."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Self

from backend.core.errors import AppError
from backend.core.json_text import loads
from backend.core.providers.abort import StreamAbort
from backend.core.providers.base import ChatEvent


class Stream:
    """An iterator over one streamed request; the request is made on the first next()."""

    def __init__(self, events: Iterator[Any], abort: StreamAbort) -> None:
        # The generator holds `abort`, not `self`: dropping the stream frees it at once,
        # and freeing it closes the HTTP response (the server then stops generating).
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


class ChatStream(Stream):
    """ChatEvents in order. A line or event with no text (a tool call) yields nothing.

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


def decode_object(data: bytes, malformed: Callable[[bytes], AppError]) -> dict[str, Any]:
    """One streamed JSON object; anything else raises `malformed(data)`."""
    try:
        obj = loads(data)
    except ValueError as exc:
        raise malformed(data) from exc
    if type(obj) is not dict:
        raise malformed(data)
    return obj
