"""Web mode: the same app in the system browser, with the tray beside it.

The browser is given `/?code=…`, a single-use launch code, never the token: a command
line is readable by every local user. The page trades the code for the token (see
backend/web/api_session.py), so every opening asks the runtime for a fresh code.
"""

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


def run_web(runtime: Runtime, announce: Callable[[], None], *, with_tray: bool = True) -> int:
    runtime.start()

    def show(suffix: str = "") -> None:
        open_page(runtime.launch_url() + suffix, fallback=runtime.page_url + suffix)

    # A second launch asks for the UI: open the page again, which brings the browser forward.
    runtime.services.bus.subscribe(
        lambda event: show("#new" if event.payload.get("new_chat") else ""),
        topics=(APP_SHOW,),
        name="browser",
    )
    announce()
    show()
    trays: list = []

    def start_tray() -> None:
        from backend.desktop.app_tray import start_app_tray  # pystray loads only here

        tray = start_app_tray(
            runtime,
            open_window=show,
            new_chat=lambda: show("#new"),
            open_conversation=lambda cid: show(f"#conversation={cid}"),
            # Quit is a request like Ctrl+C: the main thread's wait takes it and shuts down.
            quit=lambda: os.kill(os.getpid(), signal.SIGTERM),
        )
        if tray is not None:
            trays.append(tray)

    if with_tray:
        threading.Thread(target=start_tray, name="tray-start", daemon=True).start()
    wait_for_quit_signal()
    for tray in trays:
        tray.stop()
    runtime.stop()
    return 0


def open_page(url: str, *, fallback: str) -> bool:
    """Open `url` in the user's browser; if none starts, say so and print `fallback`.

    `fallback` (the tokened address) goes to this terminal only, which is the user's:
    a launch code would expire before anyone typed it.
    """
    try:
        browser = webbrowser.get()
        opened = browser.open(url)
        why = f"{getattr(browser, 'name', 'the browser')} did not start"
    except webbrowser.Error as exc:
        opened, why = False, str(exc) or "no browser found"
    if not opened:
        print(f"cloudtolocalllm: {why}; open {fallback} in your browser", file=sys.stderr)
    return opened
