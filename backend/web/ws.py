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

log = logging.getLogger("cloudtolocalllm.ws")

# Content may be 1 MiB of UTF-8, which JSON escapes can make six times larger.
MAX_FRAME_BYTES = 8 * 1024 * 1024
FORWARDED_TOPICS = (
    "status",
    "conversation.created",
    "conversation.updated",
    "conversation.deleted",
)
# Conversation events go only to sockets that ask (`{"type": "subscribe", "events":
# ["conversations"]}`), so a plain client sees nothing but the contract's frames.
OPTIONAL_EVENTS = {"conversations": "conversation."}


class ClientSocket:
    """One open WebSocket: sends are serialised, a closed socket is noticed once."""

    def __init__(self, ws: Any, services: Any) -> None:
        self.ws = ws
        self.services = services
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
        unsubscribe = self.services.bus.subscribe(
            self._on_event, topics=FORWARDED_TOPICS, name="websocket"
        )
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
            unsubscribe()

    def handle(self, raw: str | bytes) -> None:
        frame: Any = None
        try:
            frame = _parse(raw)
            kind = frame.get("type")
            if kind == "chat.send":
                self._chat_send(frame)
            elif kind == "chat.cancel":
                self.services.chat.cancel(_field(frame, "message_id", str))
            elif kind == "ping":
                self.send({"type": "pong"})
            elif kind == "subscribe":
                self._subscribe(_field(frame, "events", list))
            elif not isinstance(kind, str):
                raise BadRequest("Every frame needs a string `type`", code="missing_field")
            else:
                raise BadRequest(f"Unknown frame type {kind!r}", code="unknown_type")
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

    def _chat_send(self, frame: dict[str, Any]) -> None:
        reply = self.services.chat.send(
            _field(frame, "conversation_id", str, optional=True),
            _field(frame, "content", str),
            model=_field(frame, "model", str, optional=True),
            options=_field(frame, "options", dict, optional=True),
            request_id=_field(frame, "request_id", str),
        )
        self.follow(reply)

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

    def _subscribe(self, names: list[Any]) -> None:
        unknown = [name for name in names if name not in OPTIONAL_EVENTS]
        if unknown:
            raise BadRequest(f"Unknown event group(s): {unknown}", code="invalid_field")
        self.wanted_prefixes.update(OPTIONAL_EVENTS[name] for name in names)

    def _on_event(self, event: Event) -> None:
        if not event.topic.startswith(tuple(self.wanted_prefixes)):
            return
        if event.topic == "status":
            self.send({"type": "status", **event.payload})
        else:
            self.send({"type": event.topic, "conversation": event.payload})


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


def _field(frame: dict[str, Any], name: str, kind: type, *, optional: bool = False) -> Any:
    value = frame.get(name)
    if value is None:
        if optional:
            return None
        raise BadRequest(f"`{name}` is required", code="missing_field")
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise BadRequest(f"`{name}` must be a {kind.__name__}", code="invalid_field")
    return value
