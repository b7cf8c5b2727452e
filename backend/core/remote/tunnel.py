"""A device's view of the app's `/ws`: one socket per device that outlives a dropped link.

The socket is the same one the local UI gets (opened by the web layer); its frames are
numbered and the recent ones kept, so a device that comes back (a new session after a relay
restart, or Wi-Fi to mobile) names the last frame it got and receives exactly the rest.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

# Frames kept for a device that may come back; a reply streams a few thousand at most.
MAX_BUFFERED_FRAMES = 20_000
# How long a device's socket waits for it to come back before it is closed.
RESUME_GRACE_S = 120.0

Sink = Callable[[dict[str, Any]], bool]


class SocketHandle(Protocol):
    def deliver(self, text: str) -> None: ...
    def close(self) -> None: ...


class Dispatcher(Protocol):
    """What the web layer provides: the app's own REST and WebSocket handling, in-process."""

    def rest(self, method: str, path: str, body: Any) -> tuple[int, Any]: ...
    def open_socket(self, send: Callable[[str], bool]) -> SocketHandle: ...


class TunnelSocket:
    def __init__(self, dispatcher: Dispatcher, *, grace_s: float = RESUME_GRACE_S) -> None:
        self._lock = threading.Lock()
        self._buffer: deque[tuple[int, str]] = deque(maxlen=MAX_BUFFERED_FRAMES)
        self._next_index = 0
        self._sink: Sink | None = None
        self._grace_s = grace_s
        self._timer: threading.Timer | None = None
        self.closed = False
        self.handle = dispatcher.open_socket(self._outgoing)

    def _outgoing(self, text: str) -> bool:
        # Under the lock so frames leave in index order whichever thread sends them.
        with self._lock:
            if self.closed:
                return False
            index = self._next_index
            self._next_index += 1
            self._buffer.append((index, text))
            if self._sink is not None:
                self._sink({"type": "ws", "index": index, "text": text})
            return True

    def attach(self, sink: Sink, resume_after: int | None) -> bool:
        """Send from now on to `sink`; replay what came after `resume_after`. False when
        the frames after it are no longer all kept (the device must start afresh)."""
        with self._lock:
            first_kept = self._buffer[0][0] if self._buffer else self._next_index
            after = -1 if resume_after is None else resume_after
            if self.closed or not first_kept <= after + 1 <= self._next_index:
                return False
            self._cancel_timer()
            for index, text in self._buffer:
                if index > after:
                    sink({"type": "ws", "index": index, "text": text})
            self._sink = sink
            return True

    def detach(self, sink: Sink) -> None:
        with self._lock:
            if self._sink != sink:  # bound methods: equal, never identical
                return
            self._sink = None
            self._cancel_timer()
            self._timer = threading.Timer(self._grace_s, self._expire)
            self._timer.daemon = True
            self._timer.start()

    def _expire(self) -> None:
        with self._lock:
            if self._sink is not None:
                return
        self.close()

    def close(self) -> None:
        with self._lock:
            if self.closed:
                return
            self.closed = True
            self._sink = None
            self._cancel_timer()
        self.handle.close()

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
