"""SIGINT and SIGTERM as a request to quit, taken by the one thread that waits for them.

A Python signal handler runs only in the main thread, and only when that thread next runs
Python code: a main thread blocked in a wait may never notice a signal the kernel handed
to one of the app's other threads. So the signals are blocked in every thread and taken
with sigwait, which cannot miss them.
"""

from __future__ import annotations

import signal
import time

QUIT_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def block_quit_signals() -> None:
    """Block them here and in every thread started later: call before the first starts."""
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_BLOCK, QUIT_SIGNALS)


def wait_for_quit_signal() -> None:
    """Return once SIGINT or SIGTERM has arrived."""
    if hasattr(signal, "sigwait"):
        signal.sigwait(QUIT_SIGNALS)
        return
    # Windows has no sigwait: a handler that only sets a flag (it must take no lock the
    # interrupted main thread may hold), and a main thread that looks at it often.
    arrived: list[int] = []
    for signum in QUIT_SIGNALS:
        signal.signal(signum, lambda number, _frame: arrived.append(number))
    while not arrived:
        time.sleep(0.2)
