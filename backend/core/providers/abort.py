"""Ending a blocked streaming read from another thread, for every provider's HTTP stream.

A stream registers a `StreamAbort` while its request is being made; the connection hooks
in `http.py` hand each new socket to it, and `abort()` shuts that socket down, which wakes
a `recv()` blocked in the reply thread at once (closing a `requests` response does not).
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_local = threading.local()  # the stream whose request the current thread is making


class StreamAbort:
    """The socket of one stream, so another thread can shut it down to end a blocked read."""

    __slots__ = ("lock", "sock", "aborted")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sock: socket.socket | None = None
        self.aborted = False

    def attach(self, sock: socket.socket) -> None:
        with self.lock:
            self.sock = sock
            aborted = self.aborted
        if aborted:  # abort() came while we were still connecting
            _shutdown(sock)

    def detach(self) -> None:
        with self.lock:
            self.sock = None

    def abort(self) -> None:
        with self.lock:
            self.aborted = True
            sock = self.sock
        if sock is not None:
            _shutdown(sock)


@contextmanager
def sockets_to(abort: StreamAbort) -> Iterator[None]:
    """Hand the sockets of requests made on this thread, inside the block, to `abort`."""
    _local.abort = abort
    try:
        yield
    finally:
        _local.abort = None


def attach_current(sock: socket.socket | None) -> None:
    """Called by the connection hooks: give `sock` to this thread's stream, if any."""
    abort = getattr(_local, "abort", None)
    if abort is not None and sock is not None:
        abort.attach(sock)


def _shutdown(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)  # wakes a recv() blocked in another thread
    except OSError:
        pass  # already closed: nothing left to wake
