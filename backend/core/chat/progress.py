"""A streaming reply's text, stored as it grows: at most once per interval, off its thread."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from backend.core.errors import AppError


class ProgressWriter:
    """Accumulates a reply's text and stores it at most once per interval while it grows.

    The reply thread decides when to write; the writes run on one thread of the reply's
    own, started at the first write and ended by `store_final`.
    A write can take long for reasons that have nothing to do with the reply: another
    writer holding SQLite's lock, a WAL checkpoint's fsync on a busy disk. Tokens must not
    wait for any of that. A new write is handed over only once the interval has passed
    since the previous write *started* and that write has ended, so two writes never
    overlap or come closer than the interval, however slow one was. The final write runs
    on the caller's thread once the write in flight has ended, so it is always the last
    one. A failed progress write is raised on the reply thread at its next `maybe_flush`,
    as if that thread had made it.
    """

    def __init__(
        self,
        store: Any,
        message_id: str,
        interval_s: float,
        clock: Callable[[], float],
        *,
        prefix: tuple[str, str] = ("", ""),
    ) -> None:
        self.store, self.message_id = store, message_id
        # A continued reply's text and thinking so far (stored already) start the lists.
        self.content: list[str] = [prefix[0]] if prefix[0] else []
        self.thinking: list[str] = [prefix[1]] if prefix[1] else []
        self._interval_s, self._clock = interval_s, clock
        self._last_write = clock()  # when the last write started (the reply's start at first)
        self._flushed_parts = len(self.content) + len(self.thinking)
        self.writes = 0
        self._cond = threading.Condition()
        self._running = False  # a progress write is in flight
        self._requested: tuple[int, int] | None = None  # the text to write next
        self._closed = False
        self._thread: threading.Thread | None = None
        self._failure: BaseException | None = None

    def text(self) -> tuple[str, str]:
        return "".join(self.content), "".join(self.thinking)

    def maybe_flush(self) -> None:
        """Called after every delta: hands the text to a writer if the interval has passed."""
        failure, self._failure = self._failure, None
        if failure is not None:
            raise failure
        parts = len(self.content) + len(self.thinking)
        if parts == self._flushed_parts:
            return
        with self._cond:
            if self._running or self._clock() - self._last_write < self._interval_s:
                return  # too soon, or still writing: a later delta tries again
            self._running = True
            self._requested = (len(self.content), len(self.thinking))
            self._cond.notify_all()
        self._flushed_parts = parts
        if self._thread is None:
            name = f"persist-{self.message_id[:8]}"
            self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
            self._thread.start()

    def store_final(
        self, *, status: str, error: str | None = None, stats: dict | None = None
    ) -> None:
        with self._cond:
            while self._running:
                self._cond.wait()
            self._closed = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join()
        content, thinking = self.text()
        self.store.update_message(
            self.message_id,
            content=content,
            thinking=thinking or None,
            status=status,
            error=error,
            stats=stats,
        )
        self.writes += 1

    def store_failed(self, error: str) -> None:
        """After a failed final write (a full disk): the smallest write that still ends the
        reply, its status, so the row says `error` now rather than `streaming` until the
        next start. Its text stays that of the last write that fitted."""
        try:
            self.store.update_message(self.message_id, status="error", error=error)
            self.writes += 1
        except AppError:
            pass  # nothing fits: the next start finds the row unfinished and marks it

    def _serve(self) -> None:
        """The writer thread: one write per request, until `store_final` closes it."""
        while True:
            with self._cond:
                while self._requested is None and not self._closed:
                    self._cond.wait()
                if self._requested is None:
                    return
                counts, self._requested = self._requested, None
            self._write(counts)

    def _write(self, counts: tuple[int, int]) -> None:
        # Slices of lists the reply thread appends to: atomic, and a consistent prefix.
        content = "".join(self.content[: counts[0]])
        thinking = "".join(self.thinking[: counts[1]])
        self._last_write = self._clock()
        try:
            self.store.update_message(self.message_id, content=content, thinking=thinking or None)
            self.writes += 1
        except BaseException as exc:  # the reply thread raises it and stops the reply
            self._failure = exc
        finally:
            with self._cond:
                self._running = False
                self._cond.notify_all()
