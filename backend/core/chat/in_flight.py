"""The replies in flight and the conversations reserved: one reply or change at a time."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

from backend.core.chat.reply import Reply
from backend.core.errors import AppError, Busy

T = TypeVar("T")
# How long a reply starting waits for a change to its conversation (a delete) to end.
CHANGE_WAIT_S = 5.0


class InFlight:
    """Which replies stream, and which conversations are reserved (by a reply starting
    or streaming, or by a change such as a delete). One condition guards both; it is
    notified whenever a reply registers or a conversation is released."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._cond = threading.Condition()
        self._by_message: dict[str, Reply] = {}
        self._reserved: set[str] = set()
        self._changing: set[str] = set()  # reserved by `exclusive`, not by a reply
        self._closing = False

    def reserve(self, conversation_id: str | None) -> None:
        """Reserve a conversation for a reply about to start (None: a new one, only checks
        that the app is not closing)."""
        with self._cond:
            self._check_open()
            if conversation_id is None:
                return
            # A change (a delete) is short: wait for it, and find the conversation after it.
            self._cond.wait_for(lambda: conversation_id not in self._changing, CHANGE_WAIT_S)
            if conversation_id in self._reserved:
                raise Busy("A reply is still streaming in this conversation; stop it or wait")
            self._reserved.add(conversation_id)

    def release(self, conversation_id: str | None) -> None:
        with self._cond:
            self._reserved.discard(conversation_id)
            self._cond.notify_all()

    def register(self, reply: Reply) -> None:
        with self._cond:
            self._by_message[reply.message_id] = reply
            self._cond.notify_all()

    def done(self, reply: Reply) -> None:
        """The reply has its final state: forget it and free its conversation."""
        with self._cond:
            self._by_message.pop(reply.message_id, None)
            self._reserved.discard(reply.conversation_id)
            self._cond.notify_all()

    def get(self, message_id: str) -> Reply | None:
        with self._cond:
            return self._by_message.get(message_id)

    def replies(self, conversation_id: str | None = None) -> list[Reply]:
        with self._cond:
            return self._replies_in(conversation_id)

    def close(self) -> list[Reply]:
        """No reply may start from now on; the replies still in flight."""
        with self._cond:
            self._closing = True
            return list(self._by_message.values())

    def exclusive(self, conversation_id: str, change: Callable[[], T], timeout: float) -> T:
        """Run `change` (a delete) with the conversation reserved, after stopping its replies.

        A reply may be starting when this is called (its send reserved the conversation
        but has not registered the reply yet): it is stopped the moment it registers, so
        it ends `cancelled`, its text kept, before `change` runs.
        """
        deadline = self._clock() + timeout
        while not self._reserve_for_change(conversation_id, deadline):
            if self._clock() >= deadline:
                raise Busy("A reply in this conversation did not stop in time; try again")
        try:
            return change()
        finally:
            with self._cond:
                self._changing.discard(conversation_id)
            self.release(conversation_id)

    def _reserve_for_change(self, conversation_id: str, deadline: float) -> bool:
        """Reserve the conversation if it is free; else stop its replies and wait a little."""
        with self._cond:
            self._check_open()
            if conversation_id not in self._reserved:
                self._reserved.add(conversation_id)
                self._changing.add(conversation_id)
                return True
            running = self._replies_in(conversation_id)
            if not running:  # a send is registering its reply: woken when it has
                self._cond.wait(min(max(deadline - self._clock(), 0.0), 0.1))
        for reply in running:
            reply.stop()
            reply.finished.wait(max(deadline - self._clock(), 0.0))
        return False

    def _replies_in(self, conversation_id: str | None) -> list[Reply]:
        return [
            r for r in self._by_message.values() if conversation_id in (None, r.conversation_id)
        ]

    def _check_open(self) -> None:
        if self._closing:
            raise AppError("The app is shutting down", code="shutting_down")
