"""The embedded HTTP server: Werkzeug's threaded server on its own thread."""

from __future__ import annotations

import socket
import threading

from flask import Flask
from werkzeug.serving import WSGIRequestHandler, make_server


class _QuietHandler(WSGIRequestHandler):
    def setup(self) -> None:
        super().setup()
        # A WebSocket frame is a small write: with Nagle's algorithm on, one sent while the
        # previous is unacknowledged waits for the client's delayed ACK (up to 40 ms).
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass  # not a TCP socket: nothing to tune

    # Request lines carry the token in their query string: never log them.
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class ServerThread:
    """Binds at construction (so the port is known), serves once started."""

    def __init__(self, app: Flask, host: str, port: int) -> None:
        self._server = make_server(host, port, app, threaded=True, request_handler=_QuietHandler)
        self.host = host
        self.port: int = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, name="http", daemon=True)

    @property
    def url(self) -> str:
        shown = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        shown = f"[{shown}]" if ":" in shown else shown
        return f"http://{shown}:{self.port}/"

    def start(self) -> ServerThread:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
