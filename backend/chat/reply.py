"""One assistant reply in flight, fanned out as protocol frames to any number of readers."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any


class Reply:
    """The deltas of one reply as they arrive, and its final frame once it has one.

    The generating thread `push`es deltas and then `finish`es; every call of `frames()` is
    an independent reader with its own gap-free `seq`. A reader that falls behind gets the
    deltas that piled up as one `chunk`, so a slow socket costs frames, never text, and
    never slows the generating thread or the other readers.
    """

    def __init__(
        self,
        *,
        request_id: str | None,
        conversation_id: str,
        user_message_id: str,
        message_id: str,
        model: str,
    ) -> None:
        self.request_id = request_id
        self.conversation_id = conversation_id
        self.user_message_id = user_message_id
        self.message_id = message_id
        self.model = model
        self._cond = threading.Condition()
        self._content: list[str] = []
        self._thinking: list[str] = []
        self._final: dict[str, Any] | None = None
        self.cancel_requested = threading.Event()
        self.finished = threading.Event()
        self.thread: threading.Thread | None = None
        self.stream: Any = None  # the Ollama ChatStream, aborted to stop the reply
        self.stop_reason = "cancelled"  # or "interrupted" when the app shuts down

    # -- the generating side ---------------------------------------------------------

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
        return {
            "type": "start",
            "request_id": self.request_id,
            "conversation_id": self.conversation_id,
            "user_message_id": self.user_message_id,
            "message_id": self.message_id,
            "model": self.model,
            "seq": 0,
        }

    def frames(self) -> Iterator[dict[str, Any]]:
        """Yield `start`, `chunk`s and the final frame; blocks until there is news."""
        yield self.start_frame()
        seq, cursor = 0, 0
        while True:
            with self._cond:
                while cursor == len(self._content) and self._final is None:
                    self._cond.wait()
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
                yield chunk
            if final is not None:
                yield {**final, "seq": seq + 1}
                return
