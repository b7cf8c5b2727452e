"""The system tray icon: the connection status at a glance and the app's global actions.

(Over 300 lines: one class whose three threads, the updater, the tray's loop and the
start/stop handshake, share their state and are only right when read together.)

Threads, and why nothing here blocks its caller:
- `update()` (and the bus subscription, which calls it) only records the newest status and
  wakes the "tray-updates" thread, which applies it. Only the newest status is applied, so
  a burst of changes costs one redraw. This matters because pystray's calls are not cheap
  everywhere: on the X11 backend every icon/title change from another thread sends a
  message to the tray's loop and waits for it (see tray_x11 for how that wait can stall),
  and `update_menu()` rebuilds the native menu. Only the updater thread ever waits on
  the tray; the window thread, the monitor and the bus's delivery thread never do.
- The tray's event loop runs `icon.run()` on a daemon thread ("tray"), never
  `run_detached()`, which hangs at exit on X11. macOS is the exception: AppKit needs the
  main thread, which pywebview's loop owns, so there the Tray must be built and started
  on the main thread and `run_detached()` attaches the icon to that loop (untested here).
- Menu actions run on the tray's thread: a TrayActions callback that needs the window
  must hand over to it itself (pywebview's window methods may be called from any thread).
  A callback that raises is logged; it does not take the tray's loop down. With the
  appindicator backend that thread runs GLib's default main context, which Qt must then
  leave alone (app.py sets QT_NO_GLIB), or GTK's callbacks could land on Qt's thread.
- The backend (see tray_backend) is appindicator on Linux when it can start; if its loop
  fails anyway, the X11 icon is tried once instead.
- `start()` waits at most START_TIMEOUT_S for the loop to come up, so that its answer is
  true; `stop()` asks the loop to end from a helper thread and waits at most
  STOP_TIMEOUT_S, so a loop that is busy in a menu action cannot hang the app's exit.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PIL import Image

from backend.core import topics
from backend.desktop import tray_backend, tray_x11
from backend.desktop.icons import draw_icon
from backend.desktop.tray_menu import build_menu
from backend.desktop.tray_text import APP_TITLE, status_line, tooltip_for

if TYPE_CHECKING:
    from backend.core.events import Event, EventBus

__all__ = ["Tray", "TrayActions", "status_line", "tooltip_for"]

log = logging.getLogger("cloudtolocalllm.tray")

START_TIMEOUT_S = 5.0
STOP_TIMEOUT_S = 2.0
# Bus topics after which the menu's recent conversations are read again.
CONVERSATION_TOPICS = (
    topics.CONVERSATION_CREATED,
    topics.CONVERSATION_UPDATED,
    topics.CONVERSATION_DELETED,
    topics.CONVERSATION_IMPORTED,
)
# Bus topics after which the endpoint in use, or its status, may have changed.
STATUS_TOPICS = (
    topics.STATUS,
    topics.ENDPOINT_STATUS,
    topics.ENDPOINT_CHANGED,
    *CONVERSATION_TOPICS,
)


@dataclass
class TrayActions:
    """What the menu items do; called on the tray's thread."""

    open_window: Callable[[], None]
    new_chat: Callable[[], None]
    reconnect: Callable[[], None]
    open_data_folder: Callable[[], None]
    quit: Callable[[], None]
    open_conversation: Callable[[str], None]
    recent_conversations: Callable[[], list[dict]]  # newest first; id and title


class Tray:
    """The tray icon, following the connection status published on the bus.

    Without `status_source` it shows the STATUS events' payloads (the Ollama endpoint's);
    with one, it reads `status_source()` (the endpoint in use: see
    `backend.core.endpoints.in_use`) after every event that may change it.
    """

    def __init__(
        self,
        bus: EventBus,
        actions: TrayActions,
        initial_status: dict,
        *,
        status_source: Callable[[], dict] | None = None,
    ) -> None:
        self.actions = actions
        self._status_source = status_source
        self.icon: Any = None  # the pystray.Icon, or None when pystray cannot load
        self._status = dict(initial_status)  # read by the menu's status line
        self._shown = self._status  # fully applied: icon, tooltip and menu
        self._images: dict[str, Image.Image] = {}
        self._cond = threading.Condition()
        self._pending: dict | None = None
        self._wanted = self._applied = 0
        self._closed = False
        self._running = False  # the loop is up and the icon shown
        self._loop_over = False  # the loop ended: pystray calls could wait forever
        self._ready = threading.Event()
        self._failure: str | None = None
        self._loop_thread: threading.Thread | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._update_failed = False
        self._recent: list[dict] = []
        self._remote = "off"  # remote access's state, from REMOTE_CHANGED
        self._recent_stale = True
        self._icon_stale = False  # the backend dropped the image it was given early
        self.backend = tray_backend.preferred_backend()
        # Subscribed before the icon is built (which can take a second: GTK loads), so a
        # change meanwhile is not missed: update() keeps it, and start() shows it.
        self._unsubscribe = bus.subscribe(
            self._on_event,
            topics=(*STATUS_TOPICS, topics.REMOTE_CHANGED),
            name="tray",
        )
        try:
            self.icon = self._build_icon()
        # Without a display, importing pystray raises Xlib's DisplayNameError, not an
        # ImportError; whatever pystray raises, the app goes on without a tray.
        except Exception as exc:
            if self.backend != tray_backend.APPINDICATOR or not self._fall_back(exc):
                self._failure = _describe(exc)
                self._unsubscribe()
                self._unsubscribe = None
                return
        threading.Thread(target=self._apply_loop, name="tray-updates", daemon=True).start()

    @property
    def available(self) -> bool:
        """Whether there is a tray icon (before start(): whether one could be made)."""
        return self.icon is not None and self._failure is None and not self._closed

    def start(self) -> bool:
        """Show the icon; False (and one log line) when no tray can be made."""
        if self._loop_thread is not None or self._running:
            return self.available
        if self.icon is None or self._closed:
            return self._give_up(self._failure or "the tray was stopped")
        missing = tray_x11.missing_tray_host() if tray_x11.is_x11(self.icon) else None
        if missing:
            return self._give_up(missing)
        if sys.platform == "darwin":
            self._start_detached()  # AppKit's loop is pywebview's, on the main thread
        else:
            self._loop_thread = threading.Thread(target=self._run_loop, name="tray", daemon=True)
            self._loop_thread.start()
        if not self._ready.wait(START_TIMEOUT_S):
            return self._give_up(f"the tray did not come up within {START_TIMEOUT_S:g} s")
        if self._failure and self.backend == tray_backend.APPINDICATOR and not self._closed:
            if self._fall_back(self._failure):
                return self.start()
        return self._give_up(self._failure) if self._failure else True

    def _fall_back(self, why: BaseException | str) -> bool:
        """The appindicator icon cannot run here: build the X11 one instead."""
        reason = why if isinstance(why, str) else _describe(why)
        log.info("the AppIndicator tray cannot start (%s); trying the X11 tray", reason)
        self.backend = tray_backend.XORG
        self._failure, self._loop_thread, self._loop_over = None, None, False
        self._ready.clear()
        try:
            self.icon = self._build_icon()
        except Exception as exc:
            self._failure = _describe(exc)
            return False
        return True

    def stop(self) -> None:
        """Remove the icon and end its threads; safe to call twice and from a menu action."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._cond.notify_all()
        if self._unsubscribe is not None:
            self._unsubscribe()
        loop = self._loop_thread
        if self._running or (loop is not None and loop.is_alive()):
            threading.Thread(target=self._stop_icon, name="tray-stop", daemon=True).start()
        if loop is not None and loop is not threading.current_thread():
            loop.join(STOP_TIMEOUT_S)

    def update(self, status: dict) -> None:
        """Show `status` (a STATUS dict); returns at once, from any thread."""
        with self._cond:
            if self.icon is None or self._closed:
                self._status = self._shown = dict(status)
                return
            self._pending = dict(status)
            self._wanted += 1
            self._cond.notify_all()

    def flush(self, timeout: float = STOP_TIMEOUT_S) -> bool:
        """Wait until every update so far is applied; False on timeout or when stopped."""
        with self._cond:
            return (
                self._cond.wait_for(lambda: self._applied >= self._wanted or self._closed, timeout)
                and not self._closed
            )

    def wait_until(
        self, predicate: Callable[[dict], bool], timeout: float = STOP_TIMEOUT_S
    ) -> bool:
        """Wait until the status the icon shows satisfies `predicate`; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: predicate(self._shown), timeout)

    @property
    def status(self) -> dict:
        """The status the icon shows now."""
        return self._shown

    @property
    def recent(self) -> list[dict]:
        """The conversations the menu lists (read again after each conversation event)."""
        return self._recent

    def _build_icon(self) -> Any:
        icon_class = tray_backend.icon_class(self.backend)  # lazily: see __init__'s except
        self._refresh_recent()
        menu = build_menu(
            self.actions,
            lambda: self._status,
            lambda: self._recent,
            self._guarded,
            remote=lambda: self._remote,
        )
        # The X11 icon sets its title while it is built: it must be Latin-1 already.
        x11 = icon_class.__module__ == "pystray._xorg"
        title = tooltip_for(self._status)
        state = str(self._status.get("state", ""))
        return icon_class(
            APP_TITLE,
            icon=self._image_for(state),
            title=tray_x11.latin1_title(title) if x11 else title,
            menu=menu,
        )

    def _refresh_recent(self) -> None:
        self._recent_stale = False
        try:
            self._recent = list(self.actions.recent_conversations())
        except Exception:
            log.exception("could not read the recent conversations for the tray")

    def _title_for(self, status: dict) -> str:
        text = tooltip_for(status)
        return tray_x11.latin1_title(text) if tray_x11.is_x11(self.icon) else text

    @staticmethod
    def _guarded(name: str, callback: Callable[[], None]) -> Callable[[Any, Any], None]:
        def invoke(_icon: Any, _item: Any) -> None:
            # An exception escaping into pystray ends the X11 backend's event loop,
            # and the tray with it: a failing action is logged instead.
            try:
                callback()
            except Exception:
                log.exception("tray action %s failed", name)

        return invoke

    def _image_for(self, state: str) -> Image.Image:
        # Cached, so an unchanged state hands pystray the same image and no redraw.
        if state not in self._images:
            self._images[state] = draw_icon(state)
        return self._images[state]

    def _on_event(self, event: Event) -> None:
        if event.topic == topics.REMOTE_CHANGED:
            self._remote = str(event.payload.get("state", "off"))
            self.update(self._status)  # the menu is rebuilt, its remote line read again
            return
        if event.topic in CONVERSATION_TOPICS:
            with self._cond:
                self._recent_stale = True  # the applier reads them again
        if self._status_source is not None:
            self.update(self._read_source())
        elif event.topic == topics.STATUS:
            self.update(event.payload)
        elif event.topic in CONVERSATION_TOPICS:
            self.update(self._status)  # the menu is rebuilt with the recent ones

    def _read_source(self) -> dict:
        try:
            return dict(self._status_source())  # type: ignore[misc]
        except Exception:
            log.exception("could not read the status of the endpoint in use")
            return self._status

    def _apply_loop(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._pending is not None or self._closed)
                if self._closed:
                    return
                status, wanted, self._pending = self._pending, self._wanted, None
            self._apply(status)
            with self._cond:
                self._applied, self._shown = wanted, status
                self._cond.notify_all()

    def _apply(self, status: dict) -> None:
        self._status = status
        if self._recent_stale:
            self._refresh_recent()
        if self._loop_over:
            return
        try:
            image = self._image_for(str(status.get("state", "")))
            with tray_x11.waking_loop(self.icon):
                # A GTK icon made visible drew the file written when it was built: an
                # image set while it was hidden never reached it.
                if self.icon.icon is not image or self._icon_stale:
                    self._icon_stale = False
                    self.icon.icon = image
                self.icon.title = self._title_for(status)
                if self._running:
                    self.icon.update_menu()  # the status line's text is read at rebuild
        except Exception as exc:
            # Log the first failure only: one per status change would flood the log.
            level = logging.DEBUG if self._update_failed else logging.WARNING
            self._update_failed = True
            log.log(level, "could not update the tray icon: %s", _describe(exc))

    def _run_loop(self) -> None:
        try:
            self.icon.run(setup=self._on_ready)
        except Exception as exc:
            self._failure = self._failure or _describe(exc)
        finally:
            was_running, self._running, self._loop_over = self._running, False, True
            if was_running and not self._closed:  # not asked to: `available` turns False
                self._failure = self._failure or "its event loop ended"
                log.warning("the tray icon stopped: %s", self._failure)
            self._ready.set()

    def _start_detached(self) -> None:
        try:
            self.icon.run_detached(setup=self._on_ready)
        except Exception as exc:
            self._failure = _describe(exc)
            self._ready.set()

    def _on_ready(self, icon: Any) -> None:
        if self._closed:  # start() gave up waiting, or stop() came first
            self._stop_icon()
            return
        try:
            with tray_x11.waking_loop(icon):
                icon.visible = True
        except Exception as exc:
            self._failure = _describe(exc)
        else:
            self._running = True
            # A status applied while the loop was starting missed the menu: apply again.
            self._icon_stale = True
            self.update(self._status)
        self._ready.set()

    def _stop_icon(self) -> None:
        loop = self._loop_thread
        try:
            if loop is None:  # macOS: the loop is pywebview's; icon.stop() would end it
                self.icon.visible = False
                return
            with tray_x11.waking_loop(self.icon):
                self.icon.stop()
                if loop is not None and loop is not threading.current_thread():
                    loop.join(STOP_TIMEOUT_S)  # still waking the loop until it is gone
        except Exception as exc:
            log.debug("stopping the tray icon: %s", _describe(exc))

    def _give_up(self, reason: str) -> bool:
        log.warning("no tray icon, carrying on without it: %s", reason)
        self._failure = reason
        self.stop()
        return False


def _describe(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
