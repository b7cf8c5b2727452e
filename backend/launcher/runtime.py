"""The running backend: services, the Flask app and its server, started and stopped as one."""

from __future__ import annotations

import logging
import threading

from backend.core.services import Services, build_services
from backend.core.settings import Settings

log = logging.getLogger("cloudtolocalllm")


class Runtime:
    def __init__(self, settings: Settings) -> None:
        from backend.launcher.server import ServerThread  # the web edge, imported where it is used
        from backend.web import create_app
        from backend.web.context import remote_access

        self.settings = settings
        self.services: Services = build_services(settings)
        try:
            self.app = create_app(settings, self.services)
            self.server = ServerThread(self.app, settings.host, settings.port)
        except BaseException:
            self.services.close()
            raise
        self.token: str = self.app.config["TOKEN"]
        self.remote = remote_access(self.app)
        self._stopped = threading.Event()
        self._stop_lock = threading.Lock()

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def page_url(self) -> str:
        """The UI with the token in it: for the app's own window, never a command line."""
        return f"{self.server.url}?token={self.token}"

    def launch_url(self) -> str:
        """The UI with a fresh single-use launch code, safe to pass to another process."""
        from backend.web.api_session import CODES_KEY

        code = self.app.extensions[CODES_KEY].issue()
        return f"{self.server.url}?code={code}"

    def start(self) -> Runtime:
        self.server.start()
        self.remote.start()
        log.info("serving on %s (data in %s)", self.url, self.settings.data_dir)
        return self

    def stop(self) -> None:
        """Idempotent: stop serving, save replies in flight, close the database."""
        with self._stop_lock:
            if self._stopped.is_set():
                return
            # Replies first, while their sockets are still open to receive the final frames.
            self.services.chat.shutdown()
            self.remote.close()
            self.server.stop()
            self.services.close()
            self._stopped.set()
            log.info("stopped")
