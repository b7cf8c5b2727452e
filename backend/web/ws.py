"""The WebSocket endpoint: reads client frames, and sends replies and app events."""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

from simple_websocket import ConnectionClosed

from backend.chat import Reply
from backend.errors import AppError, BadRequest
from backend.events import Event
from backend.web import chat_frames  # noqa: F401  (registers its frame handlers)
from backend.web.frames import HANDLERS

log = logging.getLogger("cloudtolocalllm.ws")

# Content may be 1 MiB of UTF-8, which JSON escapes can make six times larger.
MAX_FRAME_BYTES = 8 * 1024 * 1024


class SocketRegistry:
    """The sockets open now: how many UI windows or tabs are connected."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sockets: set[ClientSocket] = set()

    def add(self, socket: ClientSocket) -> None:
        with self._lock:
            self._sockets.add(socket)

    def discard(self, socket: ClientSocket) -> None:
        with self._lock:
            self._sockets.discard(socket)

    def __len__(self) -> int:
        with self._lock:
            return len(self._sockets)


class ClientSocket:
    """One open WebSocket: sends are serialised, a closed socket is noticed once."""

    def __init__(self, ws: Any, services: Any, registry: SocketRegistry | None = None) -> None:
        self.ws = ws
        self.services = services
        self.registry = registry if registry is not None else SocketRegistry()
        self.open = True
        self.wanted_prefixes: set[str] = {"status"}
        self._send_lock = threading.Lock()

    def send(self, frame: dict[str, Any]) -> bool:
        text = json.dumps(frame, ensure_ascii=False)
        with self._send_lock:
            if not self.open:
                return False
            try:
                self.ws.send(text)
            except (ConnectionClosed, OSError):
                self.open = False
        return self.open

    def serve(self) -> None:
        """The receive loop; it stays in it until the client closes (or browsers lose frames)."""
        self.send({"type": "status", **self.services.monitor.status()})
        unsubscribe = self.services.bus.subscribe(self._on_event, name="websocket")
        self.registry.add(self)
        try:
            while self.open:
                raw = self.ws.receive()
                if raw is None:
                    continue
                self.handle(raw)
        except ConnectionClosed:
            pass
        finally:
            self.open = False
            self.registry.discard(self)
            unsubscribe()

    def handle(self, raw: str | bytes) -> None:
        frame: Any = None
        try:
            frame = _parse(raw)
            kind = frame.get("type")
            if not isinstance(kind, str):
                raise BadRequest("Every frame needs a string `type`", code="missing_field")
            handler = HANDLERS.get(kind)
            if handler is None:
                raise BadRequest(f"Unknown frame type {kind!r}", code="unknown_type")
            handler(self, frame)
        except AppError as exc:
            self._send_error(frame, exc.code, exc.message)
        except Exception:
            # The socket's edge: one bad frame must never end the session.
            log.exception("unexpected error handling a frame")
            self._send_error(frame, "internal_error", "Something went wrong in the app")

    def _send_error(self, frame: Any, code: str, message: str) -> None:
        error = {"type": "error", "code": code, "message": message}
        if isinstance(frame, dict) and isinstance(frame.get("request_id"), str):
            error["request_id"] = frame["request_id"]
        self.send(error)

    def follow(self, reply: Reply) -> None:
        """Send the reply's frames from a thread of their own; the reply outlives the socket."""
        thread = threading.Thread(
            target=self._pump, args=(reply,), daemon=True, name=f"pump-{reply.message_id[:8]}"
        )
        thread.start()

    def _pump(self, reply: Reply) -> None:
        for frame in reply.frames():
            if not self.send(frame):
                return

    def _on_event(self, event: Event) -> None:
        if not event.topic.startswith(tuple(self.wanted_prefixes)):
            return
        if event.topic.startswith("conversation."):
            self.send({"type": event.topic, "conversation": event.payload})
        else:
            self.send({"type": event.topic, **event.payload})


def _parse(raw: str | bytes) -> dict[str, Any]:
    if len(raw) > MAX_FRAME_BYTES:
        raise BadRequest("The frame is too large", code="content_too_large")
    try:
        frame = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest("The frame is not valid JSON", code="invalid_json") from exc
    if not isinstance(frame, dict):
        raise BadRequest("A frame must be a JSON object", code="invalid_json")
    return frame
