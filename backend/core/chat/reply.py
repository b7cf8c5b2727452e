"""One assistant reply in flight, fanned out as protocol frames to any number of readers."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from backend.core.providers.base import ReplyStream
from backend.core.providers.registry import DEFAULT_ENDPOINT

# A reader sends at most one `chunk` per this interval: a fast model's tokens travel
# together (a page pays per WebSocket message: at 200 tok/s one per token cost it ~10 % of
# a core before any rendering), while a token that comes later than this after the last
# chunk goes out at once. One frame at 60 Hz: tokens 20 ms apart (50 tok/s) are never held.
CHUNK_INTERVAL_S = 0.016


class Reply:
    """The deltas of one reply as they arrive, and its final frame once it has one.

    The generating thread `push`es deltas and then `finish`es; every call of `frames()` is
    an independent reader with its own gap-free `seq`. A reader that falls behind gets the
    deltas that piled up as one `chunk`, so a slow socket costs frames, never text, and
    never slows the generating thread or the other readers. A reader also sends at most
    one chunk per `chunk_interval_s`: the first at once, later deltas when the interval
    since the last chunk is over, and what is left just before the final frame. The
    `start` frame waits for `begin()`, which says how the history was fitted to the
    model's context.

    Everything that says what the reply is comes in at construction; what changes later
    (its text, its stream once opened, a stop) changes through methods, under one lock.
    """

    def __init__(
        self,
        *,
        request_id: str | None,
        conversation_id: str,
        user_message_id: str,
        message_id: str,
        model: str,
        user_parent_id: str | None = None,
        sibling_of: str | None = None,
        endpoint_id: str = DEFAULT_ENDPOINT,
        auto_title: bool = False,
        prefix: tuple[str, str] = ("", ""),
        chunk_interval_s: float = CHUNK_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.request_id = request_id
        self.conversation_id = conversation_id
        self.user_message_id = user_message_id
        self.message_id = message_id
        self.model = model
        self.user_parent_id = user_parent_id  # None: the first exchange of a conversation
        self.sibling_of = sibling_of  # the message this one is an alternative to, if any
        self.endpoint_id = endpoint_id  # which provider streams it
        self.auto_title = auto_title  # ask the model for a title once this first exchange is done
        self.context: dict[str, Any] | None = None
        # A continued reply's (text, thinking) so far: every reader's first chunk carries
        # it, so a reply's deltas always add up to its whole text.
        self.prefix = prefix
        self._chunk_interval_s = chunk_interval_s
        self._clock = clock
        # One lock, two conditions: every change wakes readers waiting for news; only the
        # final frame wakes those holding deltas back (a token each would wake them for
        # nothing, 200 times a second).
        lock = threading.Lock()
        self._cond = threading.Condition(lock)
        self._ended = threading.Condition(lock)
        self._content: list[str] = [prefix[0]] if any(prefix) else []
        self._thinking: list[str] = [prefix[1]] if any(prefix) else []
        self._final: dict[str, Any] | None = None
        self.cancel_requested = threading.Event()
        self.finished = threading.Event()
        self._stream: ReplyStream | None = None  # the provider's stream, aborted to stop
        self._stop_reason = "cancelled"  # or "interrupted" when the app shuts down

    # -- stopping ----------------------------------------------------------------------

    def stop(self, reason: str = "cancelled") -> None:
        """From any thread: end the reply as `reason` (its text kept) promptly."""
        with self._cond:
            if not self.cancel_requested.is_set():
                self._stop_reason = reason
            self.cancel_requested.set()
            stream = self._stream
        if stream is not None:
            stream.abort()  # wakes a read blocked on a slow server at once

    @property
    def stop_reason(self) -> str:
        with self._cond:
            return self._stop_reason

    def attach(self, stream: ReplyStream) -> ReplyStream:
        """The reply thread's stream, once opened; aborted at once if a stop came first."""
        with self._cond:
            self._stream = stream
            stopped = self.cancel_requested.is_set()
        if stopped:
            stream.abort()
        return stream

    # -- the generating side ---------------------------------------------------------

    def begin(self, context: dict[str, Any]) -> None:
        """The history is fitted: readers may send `start` (it carries `context`)."""
        with self._cond:
            self.context = context
            self._cond.notify_all()

    def push(self, content: str = "", thinking: str = "") -> None:
        with self._cond:
            self._content.append(content)
            self._thinking.append(thinking)
            self._cond.notify_all()

    def finish(self, final_frame: dict[str, Any]) -> None:
        """Publish the final frame (without `seq`); the message is already stored."""
        with self._cond:
            self._final = final_frame
            self._cond.notify_all()
            self._ended.notify_all()
        self.finished.set()

    @property
    def content(self) -> str:
        with self._cond:
            return "".join(self._content)

    @property
    def thinking(self) -> str:
        with self._cond:
            return "".join(self._thinking)

    # -- the reading side -----------------------------------------------------------

    def start_frame(self) -> dict[str, Any]:
        frame: dict[str, Any] = {
            "type": "start",
            "request_id": self.request_id,
            "conversation_id": self.conversation_id,
            "user_message_id": self.user_message_id,
            "message_id": self.message_id,
            "model": self.model,
            "endpoint_id": self.endpoint_id,
            "parent_id": self.user_message_id,  # the reply's parent is the message it answers
            "sibling_of": self.sibling_of,
            "context": self.context or {"dropped": 0, "num_ctx": None},
            "seq": 0,
        }
        if any(self.prefix):
            # The first chunk repeats the text so far (docs/protocol-chat.md, section 6).
            frame.update(continues=True, prefix_length=len(self.prefix[0]))
        return frame

    def frames(self) -> Iterator[dict[str, Any]]:
        """Yield `start`, `chunk`s and the final frame; blocks until there is news."""
        with self._cond:
            while self.context is None and self._final is None:
                self._cond.wait()
        yield self.start_frame()
        seq, cursor = 0, 0
        sent_at = float("-inf")  # the first chunk goes out at once
        while True:
            with self._cond:
                self._wait_for_news(cursor, sent_at + self._chunk_interval_s)
                content = "".join(self._content[cursor:])
                thinking = "".join(self._thinking[cursor:])
                took_new = cursor < len(self._content)
                cursor = len(self._content)
                final = self._final
            if took_new and (content or thinking):
                seq += 1
                chunk: dict[str, Any] = {
                    "type": "chunk",
                    "message_id": self.message_id,
                    "seq": seq,
                    "delta": content,
                }
                if thinking:
                    chunk["thinking"] = thinking
                sent_at = self._clock()
                yield chunk
            if final is not None:
                yield {**final, "seq": seq + 1}
                return

    def _wait_for_news(self, cursor: int, send_from: float) -> None:
        """Under the lock: wait until there are deltas past `cursor` and the clock has
        reached `send_from`, or until the final frame (which takes what is left at once)."""
        while self._final is None:
            if cursor == len(self._content):
                self._cond.wait()
                continue
            left = send_from - self._clock()
            if left <= 0:
                return
            self._ended.wait(left)
