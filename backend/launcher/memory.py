"""Keeping the long-running process small and its pauses short, once start-up is done."""

from __future__ import annotations

import gc
import logging
import sys

log = logging.getLogger(__name__)

_M_ARENA_MAX = -8  # glibc's mallopt() parameter number (malloc.h)
MALLOC_ARENAS = 2


def settle_after_start() -> None:
    """Called once the app is ready to serve."""
    # What start-up made (modules, ORM mappers, routes: ~100k objects) lives as long as
    # the process. Frozen, a full collection no longer walks it all (~20 ms) in the middle
    # of whichever request set it off: that pause was the p99 of every API call.
    gc.freeze()
    limit_malloc_arenas()


def limit_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """Cap glibc's malloc arenas; True if it took effect.

    glibc gives threads that allocate at the same time arenas of their own (up to eight
    per core) and keeps each arena's freed memory. Every reply runs on threads of its
    own (the reply, its progress writer, one sender per socket that shows it), so the
    resident size crept up by ~2.5 MB a reply (63 → 83 MB over eight long replies, when
    each progress write still had a thread of its own); with two arenas it stayed at
    ~72 MB. This process's threads mostly wait on sockets, so they hardly contend for
    an arena.
    """
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library this process already uses
    except (OSError, AttributeError):  # musl and others: no mallopt, nothing to do
        return False
    ok = bool(mallopt(_M_ARENA_MAX, arenas))
    if not ok:
        log.debug("mallopt(M_ARENA_MAX) was refused")
    return ok
