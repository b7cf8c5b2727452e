"""Per-connection limits: how large a frame, how many frames a second, how many devices."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    # A chat message may hold 1 MiB of text; encrypted and base64-encoded it grows by a third.
    max_frame_bytes: int = 2 * 1024 * 1024
    # A streaming reply sends tens of frames a second; a burst covers a resumed backlog.
    frame_rate: float = 200.0
    frame_burst: int = 1000
    # Devices connected at once to one desktop (phones, tablets, a laptop at work).
    max_devices_per_desktop: int = 8
    # A desktop has this long to answer its challenge before the socket is closed.
    auth_timeout_s: float = 10.0


class TokenBucket:
    """`rate` tokens a second, at most `burst` saved up; `take()` spends one if it can.

    The same as the desktop's (backend/web/ws.py): the relay installs without the desktop
    package, so it cannot import it."""

    def __init__(
        self, rate: float, burst: int, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self.rate, self.burst, self._clock = rate, burst, clock
        self._tokens = float(burst)
        self._last = clock()

    def take(self) -> bool:
        now = self._clock()
        self._tokens = min(float(self.burst), self._tokens + (now - self._last) * self.rate)
        self._last = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True
