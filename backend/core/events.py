"""A thread-safe publish/subscribe bus: one queue and one delivery thread per subscriber.

Publishing only appends to queues, so a slow or stuck subscriber (a WebSocket whose peer
stopped reading) never blocks the publisher or the other subscribers.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("cloudtolocalllm.events")

DEFAULT_MAX_PENDING = 1000


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened; `payload` is shared by all subscribers: treat it as read-only."""

    topic: str
    payload: dict[str, Any]


class _Subscriber:
    """One callback with its bounded queue and its daemon delivery thread."""

    def __init__(
        self,
        callback: Callable[[Event], None],
        topics: frozenset[str] | None,
        name: str,
        max_pending: int,
    ) -> None:
        self.callback = callback
        self.topics = topics
        self.name = name
        self._max_pending = max_pending
        self._queue: deque[Event] = deque()
        self._cond = threading.Condition()
        self._closed = False
        self._overflowing = False
        self.dropped = 0
        self.thread = threading.Thread(target=self._deliver, name=f"events-{name}", daemon=True)

    def wants(self, topic: str) -> bool:
        return self.topics is None or topic in self.topics

    def put(self, event: Event) -> None:
        with self._cond:
            if self._closed:
                return
            if len(self._queue) >= self._max_pending:
                self._queue.popleft()
                self.dropped += 1
                # Log once per overflow episode, not once per lost event: a dead
                # subscriber would otherwise flood the log at the publish rate.
                if not self._overflowing:
                    self._overflowing = True
                    log.warning(
                        "subscriber %r is %d events behind; dropping the oldest",
                        self.name,
                        self._max_pending,
                    )
            self._queue.append(event)
            self._cond.notify()

    def close(self) -> None:
        """Stop delivering: pending events are discarded, a running callback finishes."""
        with self._cond:
            self._closed = True
            self._queue.clear()
            self._cond.notify()

    def _next(self) -> Event | None:
        with self._cond:
            while not self._queue and not self._closed:
                self._overflowing = False  # caught up: a later overflow is news again
                self._cond.wait()
            return None if self._closed else self._queue.popleft()

    def _deliver(self) -> None:
        while (event := self._next()) is not None:
            try:
                self.callback(event)
            # A subscriber's bug must not kill its delivery thread or reach the
            # publisher: log it and carry on with the next event.
            except Exception as exc:
                log.error(
                    "subscriber %r failed on %r: %s: %s",
                    self.name,
                    event.topic,
                    type(exc).__name__,
                    exc,
                )
                log.debug("subscriber %r traceback", self.name, exc_info=True)


class EventBus:
    """Fan-out of events to subscribers, each on its own thread, in publish order."""

    def __init__(self, *, max_pending: int = DEFAULT_MAX_PENDING) -> None:
        if max_pending < 1:
            raise ValueError("max_pending must be at least 1")
        self._max_pending = max_pending
        self._lock = threading.Lock()
        self._subscribers: list[_Subscriber] = []
        self._closed = False
        self._counter = 0

    def subscribe(
        self,
        callback: Callable[[Event], None],
        *,
        topics: Iterable[str] | None = None,
        name: str = "",
    ) -> Callable[[], None]:
        """Deliver matching events to `callback` on a new thread; returns `unsubscribe`.

        `topics` None means every topic. Raises RuntimeError once the bus is closed.
        """
        wanted = None if topics is None else frozenset(topics)
        with self._lock:
            if self._closed:
                raise RuntimeError("the event bus is closed")
            self._counter += 1
            sub = _Subscriber(callback, wanted, name or f"sub{self._counter}", self._max_pending)
            self._subscribers.append(sub)
            sub.thread.start()

        def unsubscribe() -> None:
            # Safe from inside the callback: it never joins the delivery thread.
            with self._lock:
                if sub in self._subscribers:
                    self._subscribers.remove(sub)
            sub.close()

        return unsubscribe

    def publish(self, topic: str, payload: dict[str, Any]) -> None:
        """Queue an event for every interested subscriber; never waits for one."""
        # A shallow copy, so a publisher that reuses its dict cannot change what
        # subscribers that have not run yet will see.
        event = Event(topic, dict(payload))
        with self._lock:
            # Enqueue under the lock so two publishers' events reach every
            # subscriber in the same order.
            for sub in self._subscribers:
                if sub.wants(topic):
                    sub.put(event)

    def subscriber_count(self) -> int:
        with self._lock:
            return len(self._subscribers)

    def close(self, timeout: float = 1.0) -> None:
        """Stop all deliveries and wait up to `timeout` s in total for their threads to end."""
        with self._lock:
            self._closed = True
            subs, self._subscribers = self._subscribers, []
        for sub in subs:
            sub.close()
        deadline = time.monotonic() + timeout
        for sub in subs:
            if sub.thread is threading.current_thread():
                continue  # closed from inside a callback: it ends when the callback returns
            sub.thread.join(max(deadline - time.monotonic(), 0.0))

    @property
    def closed(self) -> bool:
        return self._closed
