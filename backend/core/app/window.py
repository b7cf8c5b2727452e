"""Requests for the app's window, from a second launch (`POST /api/app/show`)."""

from __future__ import annotations

from collections.abc import Callable

from backend.core.errors import AppError
from backend.core.topics import APP_SHOW


class NoWindow(AppError):
    code = "no_window"
    http_status = 409


class WindowRequests:
    """Passes "show the window" to whoever owns it (the desktop edge), via the bus."""

    def __init__(self, mode: str, publish: Callable[[str, dict], None]) -> None:
        self.mode = mode
        self._publish = publish

    def show(self, new_chat: bool) -> None:
        if self.mode == "headless":
            raise NoWindow("This CloudToLocalLLM runs without a window (--headless)")
        self._publish(APP_SHOW, {"new_chat": new_chat})
