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

from backend.web.ws import ClientSocket, SocketRegistry

_CLOSED = object()


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
        with self.app.test_client() as client:
            response = client.open(path, method=method, headers=headers, data=data)
        if response.is_json:
            return response.status_code, response.get_json()
        return response.status_code, response.get_data(as_text=True)

    def open_socket(self, send: Callable[[str], bool]) -> QueueWebSocket:
        ws = QueueWebSocket(send)
        socket = ClientSocket(ws, self.services, self.sockets)
        threading.Thread(target=socket.serve, name="remote-ws", daemon=True).start()
        return ws
