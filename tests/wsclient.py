"""A small blocking WebSocket client for tests, on simple-websocket."""

from __future__ import annotations

import json
import time
from typing import Any

import simple_websocket


class _Client(simple_websocket.Client):
    def handshake(self) -> None:
        super().handshake()
        # simple-websocket 1.1 stops reading at the handshake's answer: a frame that came in
        # the same packet (the server's first `status`) would wait in wsproto until more
        # data arrives. Hand it over now, before the reader thread starts.
        self.connected = self._handle_events() and self.connected


class WsClient:
    def __init__(self, url: str, **kwargs: Any) -> None:
        self.ws = _Client.connect(url, **kwargs)

    def send(self, frame: dict[str, Any] | str | bytes) -> None:
        """A dict as JSON; text as a text frame, bytes as a binary frame, as given."""
        self.ws.send(frame if isinstance(frame, str | bytes) else json.dumps(frame))

    def recv(self, timeout: float = 10.0, *, skip: tuple[str, ...] = ("status",)) -> dict:
        """The next frame, passing over those types (status frames come at any moment)."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.ws.receive(timeout=max(0.01, deadline - time.monotonic()))
            if text is None:
                raise TimeoutError(f"no frame within {timeout} s")
            frame = json.loads(text)
            if frame.get("type") not in skip:
                return frame

    def recv_until(self, predicate, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Frames up to and including the first that matches; status frames included."""
        frames, deadline = [], time.monotonic() + timeout
        while True:
            frame = self.recv(max(0.01, deadline - time.monotonic()), skip=())
            frames.append(frame)
            if predicate(frame):
                return frames

    def reply(self, message_id_or_request: str | None = None, timeout: float = 10.0):
        """The frames of one reply, from `start` to its final frame (status frames dropped)."""
        frames = self.recv_until(
            lambda f: f["type"] in ("complete", "cancelled", "error") and "message_id" in f,
            timeout,
        )
        return [f for f in frames if f["type"] != "status"]

    def close(self) -> None:
        try:
            self.ws.close()
        except simple_websocket.ConnectionClosed:
            pass
