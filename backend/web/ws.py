"""The WebSocket endpoint: reads client frames, and sends replies and app events."""

from __future__ import annotations

import json
import logging
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

from simple_websocket import ConnectionClosed
from wsproto.events import Pong
from wsproto.utilities import LocalProtocolError

from backend.core.chat import Reply
from backend.core.errors import AppError, BadRequest
from backend.core.events import Event
from backend.core.json_text import utf8_size
from backend.core.services import Services
from backend.core.topics import CONVERSATION_EVENTS, STATUS
from backend.web import branch_frames, chat_frames, model_frames, watch_frames
from backend.web.frames import handler_table
from backend.web.locked_set import LockedSet
from backend.web.watch_frames import Watcher

log = logging.getLogger("cloudtolocalllm.ws")

# Content may be 1 MiB of UTF-8, which JSON escapes can make six times larger.
MAX_FRAME_BYTES = 8 * 1024 * 1024
# Frames a socket may send: a UI sends a few a minute; a runaway or hostile page is held
# to this pace (with room for a burst) so it cannot monopolise the database or Ollama.
FRAME_RATE = 100.0
FRAME_BURST = 200
# Pongs after connecting (seconds between them): see ClientSocket._release_early_frames.
EARLY_PONG_DELAYS_S = (0.05, 0.25, 1.0)
# A dropped frame this small is parsed anyway, to name its request_id in the error.
_PEEK_BYTES = 64 * 1024

HANDLERS = handler_table(
    chat_frames.HANDLERS, branch_frames.HANDLERS, model_frames.HANDLERS, watch_frames.HANDLERS
)


class TokenBucket:
    """`rate` tokens a second, at most `burst` saved up; `take()` spends one if it can."""

    def __init__(
        self, rate: float, burst: int, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self.rate, self.burst, self._clock = rate, burst, clock
        self._tokens = float(burst)
        self._last = clock()

    def take(self) -> bool:
        now = self._clock()
        self._tokens = min(float(self.burst), self._tokens + (now - self._last) * self.rate)
        self._last = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True


class SocketRegistry(LockedSet["ClientSocket"]):
    """The sockets open now: how many UI windows or tabs are connected."""


class ClientSocket:
    """One open WebSocket: sends are serialised, a closed socket is noticed once."""

    def __init__(
        self,
        ws: Any,  # flask-sock's (simple-websocket's) Server
        services: Services,
        registry: SocketRegistry | None = None,
        *,
        frame_rate: float = FRAME_RATE,
        frame_burst: int = FRAME_BURST,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ws = ws
        self.services = services
        self.registry = registry if registry is not None else SocketRegistry()
        self.open = True
        self.wanted_prefixes: set[str] = {STATUS}
        self.on_close: list[Callable[[], None]] = []  # feature modules' cleanups
        self.watcher: Watcher | None = None  # made at the first conversation.watch
        self._send_lock = threading.Lock()
        self._frames = TokenBucket(frame_rate, frame_burst, clock=clock)
        self._follow_lock = threading.Lock()
        # Replies, not message ids: a continued reply is a new reply of the same message.
        self._followed: weakref.WeakSet[Reply] = weakref.WeakSet()

    def send(self, frame: dict[str, Any]) -> bool:
        text = _dumps(frame)
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
        self.send({"type": STATUS, **self.services.monitor.status()})
        threading.Thread(target=self._release_early_frames, name="ws-nudge", daemon=True).start()
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
            for cleanup in self.on_close:
                cleanup()

    def _release_early_frames(self) -> None:
        """Send a few unsolicited WebSocket pongs just after connecting.

        Some clients (simple-websocket 1.1 among them) leave a frame that arrives in the same
        packet as the handshake's answer unread until more data comes: the `status` frame
        sent on connect would wait there. An unsolicited pong (RFC 6455 5.5.3: a one-way
        heartbeat) is invisible to the app's protocol and makes such a client read what it
        has; unlike a ping it asks for no answer, so it never makes a client write while it
        may be in the middle of sending a large frame of its own.
        """
        for delay in EARLY_PONG_DELAYS_S:
            time.sleep(delay)
            with self._send_lock:
                if not self.open:
                    return
                try:
                    self.ws.sock.send(self.ws.ws.send(Pong()))
                except (OSError, AttributeError, LocalProtocolError):
                    return  # closed meanwhile, or not a simple-websocket server: no matter

    def handle(self, raw: str | bytes) -> None:
        if not self._frames.take():
            # Over its rate a socket loses the frame, never the connection.
            message = "Too many messages at once: this one was dropped. Try again in a moment."
            self._send_error(_peek(raw), "rate_limited", message)
            return
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
        """Send the reply's frames from a thread of their own; the reply outlives the socket.

        Once per reply, however many ways the socket asked for it (sent it, watches it).
        """
        with self._follow_lock:
            if reply in self._followed:
                return
            self._followed.add(reply)
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
        if event.topic.startswith(CONVERSATION_EVENTS):
            self.send({"type": event.topic, "conversation": event.payload})
        else:
            self.send({"type": event.topic, **event.payload})


def _parse(raw: str | bytes) -> dict[str, Any]:
    if len(raw) > MAX_FRAME_BYTES:
        raise BadRequest("The frame is too large", code="content_too_large")
    try:
        frame = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # deep nesting: RecursionError
        raise BadRequest("The frame is not valid JSON", code="invalid_json") from exc
    if not isinstance(frame, dict):
        raise BadRequest("A frame must be a JSON object", code="invalid_json")
    return frame


def _peek(raw: str | bytes) -> Any:
    """The frame if it is small and valid JSON (to echo its request_id), else None."""
    if len(raw) > _PEEK_BYTES:
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None


def _dumps(frame: dict[str, Any]) -> str:
    """JSON for a text frame, which must be UTF-8: a lone surrogate (a client can send one
    as "\\ud800" and have it echoed in an error) is escaped, or the socket would break."""
    text = json.dumps(frame, ensure_ascii=False)
    return text if utf8_size(text) is not None else json.dumps(frame)
