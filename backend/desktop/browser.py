"""Web mode: the same app in the system browser, with the tray beside it."""

from __future__ import annotations

import os
import signal
import sys
import threading
import webbrowser
from collections.abc import Callable

from backend.core.topics import APP_SHOW
from backend.launcher.quit_signals import wait_for_quit_signal
from backend.launcher.runtime import Runtime


def run_web(runtime: Runtime, announce: Callable[[], None]) -> int:
    runtime.start()
    page = runtime.page_url
    # A second launch asks for the UI: open the page again, which brings the browser forward.
    runtime.services.bus.subscribe(
        lambda event: open_page(page, new_chat=bool(event.payload.get("new_chat"))),
        topics=(APP_SHOW,),
        name="browser",
    )
    announce()
    open_page(page)
    trays: list = []

    def start_tray() -> None:
        from backend.desktop.app_tray import start_app_tray  # pystray loads only here

        tray = start_app_tray(
            runtime,
            open_window=lambda: open_page(page),
            new_chat=lambda: open_page(page, new_chat=True),
            # Quit is a request like Ctrl+C: the main thread's wait takes it and shuts down.
            quit=lambda: os.kill(os.getpid(), signal.SIGTERM),
        )
        if tray is not None:
            trays.append(tray)

    threading.Thread(target=start_tray, name="tray-start", daemon=True).start()
    wait_for_quit_signal()
    for tray in trays:
        tray.stop()
    runtime.stop()
    return 0


def open_page(url: str, *, new_chat: bool = False) -> None:
    target = f"{url}#new" if new_chat else url
    if not webbrowser.open(target):
        print(f"Open {target} in your browser", file=sys.stderr)
