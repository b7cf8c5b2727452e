"""The embedded HTTP server: Werkzeug's threaded server on its own thread, hardened against
slow clients as production servers are: a socket timeout on every connection (nginx's
client_header/body_timeout, gunicorn's timeout) and a bounded number of connection
threads. A WebSocket is exempt from the timeout once its handshake is read: an idle chat
window is not a slow client."""

from __future__ import annotations

import socket
import threading
from typing import Any

from flask import Flask
from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler, select_address_family

# The longest silence inside a request, or between two requests of a kept-alive
# connection; a browser reconnects on its own after it.
IDLE_TIMEOUT_S = 30.0
# Connection threads at once: far above what a few windows and tabs use (each holds one
# WebSocket and a handful of fetches), far below what would exhaust the process.
MAX_CONNECTIONS = 256
_BUSY_BODY = b'{"error": {"code": "server_busy", "message": "Too many connections; try again"}}'
_BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
    b"Connection: close\r\nRetry-After: 1\r\nContent-Length: %d\r\n\r\n%b"
) % (len(_BUSY_BODY), _BUSY_BODY)


class _QuietHandler(WSGIRequestHandler):
    server: BoundedServer

    def setup(self) -> None:
        self.timeout = self.server.idle_timeout  # StreamRequestHandler applies it to the socket
        super().setup()
        # A WebSocket frame is a small write: with Nagle's algorithm on, one sent while the
        # previous is unacknowledged waits for the client's delayed ACK (up to 40 ms).
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass  # not a TCP socket: nothing to tune

    def parse_request(self) -> bool:
        parsed = super().parse_request()
        if parsed and self.headers.get("Upgrade", "").strip().lower() == "websocket":
            # The socket is the WebSocket's from here on: it may rightly stay quiet for hours.
            self.connection.settimeout(None)
        return parsed

    # Request lines carry the token in their query string: never log them.
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class BoundedServer(ThreadedWSGIServer):
    """A thread per connection, at most `max_connections` at once; one more is answered
    503 at once and closed, so the accepting thread never waits."""

    def __init__(
        self,
        host: str,
        port: int,
        app: Flask,
        *,
        idle_timeout: float | None = None,
        max_connections: int | None = None,
        fd: int | None = None,
    ) -> None:
        self.idle_timeout = IDLE_TIMEOUT_S if idle_timeout is None else idle_timeout
        self._slots = threading.BoundedSemaphore(max_connections or MAX_CONNECTIONS)
        super().__init__(host, port, app, handler=_QuietHandler, fd=fd)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            self._refuse(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def _refuse(self, request: socket.socket) -> None:
        try:
            request.settimeout(0)  # never block the accepting thread on this client
            request.send(_BUSY)
        except OSError:
            pass  # it left already, or its buffer is full: closing says enough
        self.shutdown_request(request)


class ServerThread:
    """Binds at construction (so the port is known), serves once started."""

    def __init__(self, app: Flask, host: str, port: int, **limits: Any) -> None:
        # Bound here, not by Werkzeug: on a bind error it prints two lines and exits the
        # process, where an OSError lets the launcher say one line of its own.
        family = select_address_family(host, port)
        with socket.create_server((host, port), family=family, backlog=128) as listener:
            self._server = BoundedServer(host, port, app, fd=listener.fileno(), **limits)
        self.host = host
        self.port: int = self._server.socket.getsockname()[1]
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
