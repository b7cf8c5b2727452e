"""How a remote device's calls reach the app: the same code paths as the local UI.

REST calls go through the Flask app in-process with the launch token (so every check and
route applies as for the UI); `/ws` frames go through the same ClientSocket and frame
handlers as a browser's socket.
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Callable
from typing import Any

from flask import Flask
from simple_websocket import ConnectionClosed
from werkzeug.exceptions import HTTPException
from werkzeug.test import EnvironBuilder

from backend.web.ws import ClientSocket, SocketRegistry

_CLOSED = object()
# Remote access itself (pairing, devices), the desktop's window, and the launch code's
# exchange for the token (the token never crosses the channel): for the desktop only.
DEVICE_FORBIDDEN_BLUEPRINTS = frozenset({"remote_api", "app_api", "session_api"})


class QueueWebSocket:
    """The part of a simple-websocket server connection that ClientSocket uses."""

    def __init__(self, send: Callable[[str], bool]) -> None:
        self._send = send
        self._incoming: queue.Queue[Any] = queue.Queue()

    def send(self, text: str) -> None:
        if not self._send(text):
            raise ConnectionClosed()

    def receive(self) -> str:
        item = self._incoming.get()
        if item is _CLOSED:
            self._incoming.put(_CLOSED)  # stay closed for any later read
            raise ConnectionClosed()
        return item

    def deliver(self, text: str) -> None:
        self._incoming.put(text)

    def close(self) -> None:
        self._incoming.put(_CLOSED)


class AppDispatcher:
    def __init__(self, app: Flask, services: Any, sockets: SocketRegistry) -> None:
        self.app, self.services, self.sockets = app, services, sockets

    def rest(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.app.config['TOKEN']}"}
        data = None if body is None else json.dumps(body)
        if data is not None:
            headers["Content-Type"] = "application/json"
        request = EnvironBuilder(path=path, method=method, headers=headers, data=data)
        if self._forbidden(request):
            message = "Remote access and the window are managed on the desktop only"
            return 403, {"error": {"code": "forbidden", "message": message}}
        with self.app.test_client() as client:
            response = client.open(request)
        if response.is_json:
            return response.status_code, response.get_json()
        return response.status_code, response.get_data(as_text=True)

    def _forbidden(self, request: EnvironBuilder) -> bool:
        """Whether the route the request reaches (as Flask will decode and match its path,
        escapes and all) belongs to what a device may not call."""
        adapter = self.app.url_map.bind_to_environ(request.get_environ())
        try:
            endpoint, _ = adapter.match()
        except HTTPException:
            return False  # no such route: the app answers 404 or 405 itself
        return endpoint.split(".", 1)[0] in DEVICE_FORBIDDEN_BLUEPRINTS

    def open_socket(self, send: Callable[[str], bool]) -> QueueWebSocket:
        ws = QueueWebSocket(send)
        socket = ClientSocket(ws, self.services, self.sockets)
        threading.Thread(target=socket.serve, name="remote-ws", daemon=True).start()
        return ws
