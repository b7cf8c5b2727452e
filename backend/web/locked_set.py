"""A set that threads share: the open sockets, the conversations one socket watches."""

from __future__ import annotations

import threading
from typing import Generic, TypeVar

T = TypeVar("T")


class LockedSet(Generic[T]):
    """Adds, discards, membership and size under one lock (socket threads and the event
    bus's threads use these sets at once)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: set[T] = set()

    def add(self, item: T) -> None:
        with self._lock:
            self._items.add(item)

    def discard(self, item: T) -> None:
        with self._lock:
            self._items.discard(item)

    def __contains__(self, item: object) -> bool:
        with self._lock:
            return item in self._items

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)
