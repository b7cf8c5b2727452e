"""Desktop mode: the native window owns the main thread; the server and tray run beside it."""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
from collections.abc import Callable

from backend.core.events import Event
from backend.core.topics import APP_SHOW
from backend.desktop import geometry
from backend.desktop.integration import app_icon_file
from backend.launcher.quit_signals import wait_for_quit_signal
from backend.launcher.runtime import Runtime

log = logging.getLogger("cloudtolocalllm.desktop")

WINDOW_TITLE = "CloudToLocalLLM"
# Waits up to 10 s for the page's module to define window.__app, then for its start.
PAGE_CALL = (
    "(function call(tries) { const app = window.__app;"
    " if (app) app.ready.then(() => app.CALL);"
    " else if (tries > 0) setTimeout(() => call(tries - 1), 100); })(100)"
)


def prepare_qt_environment() -> None:
    """QtWebEngine refuses to run as root unless its sandbox is off.

    QT_NO_GLIB: Qt's main thread would otherwise iterate GLib's default main context,
    which the AppIndicator tray's loop runs on its own thread; sharing it lets GTK's
    callbacks (menu clicks, pystray's updates) run on Qt's thread, in the middle of Qt's
    event handling. With its own event dispatcher Qt leaves that context to the tray.
    QT_QPA_PLATFORMTHEME: on GNOME Qt would load its GTK theme, which runs GTK on Qt's
    thread (GTK is the tray's, on another) and needs the GLib dispatcher for its file
    dialog; the portal theme asks the desktop for the dialog over D-Bus instead (and
    falls back to Qt's own dialog where no portal runs).
    """
    if sys.platform.startswith("linux"):
        os.environ.setdefault("PYWEBVIEW_GUI", "qt")
        os.environ.setdefault("QT_NO_GLIB", "1")
        os.environ.setdefault("QT_QPA_PLATFORMTHEME", "xdgdesktopportal")
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            flags = os.environ.get("QTWEBENGINE_CHROMIUM_FLAGS", "")
            if "--no-sandbox" not in flags:
                os.environ["QTWEBENGINE_CHROMIUM_FLAGS"] = f"{flags} --no-sandbox".strip()


def run_desktop(runtime: Runtime, announce: Callable[[], None] = lambda: None) -> int:
    """Run the window until the user quits (signals blocked first: see quit_signals)."""
    prepare_qt_environment()
    import webview

    runtime.start()
    data_dir = runtime.settings.data_dir
    remembered = geometry.load(data_dir)
    window = webview.create_window(
        WINDOW_TITLE,
        runtime.page_url,
        width=remembered.width,
        height=remembered.height,
        x=remembered.x,
        y=remembered.y,
        min_size=(geometry.MIN_WIDTH, geometry.MIN_HEIGHT),
        background_color="#1e1f22" if _prefers_dark() else "#ffffff",
    )
    controller = DesktopController(runtime, window)
    controller.geometry = remembered
    window.events.resized += controller.on_resized
    window.events.moved += controller.on_moved
    window.events.shown += controller.on_shown
    # Before announcing: from then on a second launch may ask for the window.
    runtime.services.bus.subscribe(controller.on_show_request, topics=(APP_SHOW,), name="window")
    announce()
    # Looking for a tray host can take seconds: never hold up the window for it.
    threading.Thread(target=controller.start_tray, name="tray-start", daemon=True).start()
    window.events.closing += controller.on_closing
    threading.Thread(target=controller.quit_on_signal, name="signals", daemon=True).start()
    webview.settings["ALLOW_DOWNLOADS"] = True  # exports are downloads
    linux = sys.platform.startswith("linux")
    # Windows and macOS take the icon from the executable; GTK and Qt need it given.
    icon = app_icon_file() if linux else None
    webview.start(
        gui="qt" if linux else None,
        private_mode=False,
        storage_path=str(runtime.settings.data_dir / "webview"),
        icon=str(icon) if icon else None,
    )
    release_qt_window(window, controller.nav_page)
    geometry.save(data_dir, controller.geometry)
    controller.shutdown()
    return 0


def release_qt_window(window, nav_page) -> None:
    """Delete the Qt window, its web pages, then their profile, in that order, now.

    Left to Python's exit, the profile pywebview made went before the pages using it (in
    no set order) and Qt warned "Release of profile requested but WebEnginePage still not
    deleted". `nav_page` is the page pywebview keeps for new-window requests: it has no
    parent, and by now the view may have let go of the page that knew it.
    """
    native = getattr(window, "native", None)
    if getattr(native, "webview", None) is None:
        return  # not Qt, or the window never opened
    try:
        from PyQt6.sip import delete
    except ImportError:  # pywebview on PySide6
        from shiboken6 import delete
    # Now, not deleteLater(): Qt's event loop has ended, nothing would carry that out.
    for doomed in (nav_page, native, getattr(native, "profile", None)):
        if doomed is not None:
            delete(doomed)


class DesktopController:
    """What the window and the tray ask of the app: show, hide, new chat, quit."""

    def __init__(self, runtime: Runtime, window) -> None:
        self.runtime = runtime
        self.window = window
        self.tray = None
        self.geometry = geometry.Geometry()
        self.quitting = threading.Event()
        self.nav_page = None  # Qt: see release_qt_window

    def start_tray(self) -> None:
        from backend.desktop.app_tray import start_app_tray

        self.tray = start_app_tray(
            self.runtime,
            open_window=self.show,
            new_chat=self.new_chat,
            open_conversation=self.open_conversation,
            quit=self.quit,
        )

    def on_resized(self, width: int, height: int) -> None:
        self.geometry.width, self.geometry.height = width, height

    def on_moved(self, x: int, y: int) -> None:
        self.geometry.x, self.geometry.y = x, y

    def on_shown(self) -> None:
        """The window's title follows the page's (the open conversation's title)."""
        native = getattr(self.window, "native", None)
        view = getattr(native, "webview", None)  # Qt: the QWebEngineView in the window
        if view is not None and hasattr(view, "titleChanged"):
            view.titleChanged.connect(native.setWindowTitle)
            self.nav_page = getattr(view.page(), "nav_handler", None)

    def on_closing(self) -> bool:
        """Closing the window hides it to the tray when there is one; else the app quits."""
        if self.quitting.is_set() or self.tray is None or not self.tray.available:
            self.quitting.set()
            return True
        # Hiding from inside Qt's close handler deadlocks pywebview: do it just after.
        threading.Thread(target=self.window.hide, daemon=True).start()
        return False

    def on_show_request(self, event: Event) -> None:
        """A second launch asked for the window (POST /api/app/show): bring it forward."""
        if event.payload.get("new_chat"):
            self.new_chat()
        else:
            self.show()

    def show(self) -> None:
        self.window.show()
        self.window.restore()

    def new_chat(self) -> None:
        self.show()
        self._call_page("newChat()")

    def open_conversation(self, conversation_id: str) -> None:
        self.show()
        # The id goes into the page as a JSON string literal: no way out of the string.
        self._call_page(f"openConversation({json.dumps(conversation_id)})")

    def _call_page(self, call: str) -> None:
        """Call `window.__app.<call>` once the page is ready: a tray click may come while
        it loads, and the page's start (which opens the last conversation) must not undo it.
        run_js, not evaluate_js: the latter wraps the code in eval(), which the CSP forbids."""
        self.window.run_js(PAGE_CALL.replace("CALL", call))

    def quit_on_signal(self) -> None:
        wait_for_quit_signal()
        log.info("quit requested by signal")
        self.quit()

    def quit(self) -> None:
        self.quitting.set()
        self.window.destroy()

    def shutdown(self) -> None:
        if self.tray is not None:
            self.tray.stop()
        self.runtime.stop()


def _prefers_dark() -> bool:
    return os.environ.get("GTK_THEME", "").lower().endswith(":dark")
