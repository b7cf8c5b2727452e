"""Pulling models over the WebSocket: `models.pull` and `models.pull.cancel`.

A pull streams `models.pull.progress` frames to the socket that asked (at most one per
`PROGRESS_INTERVAL_S`, the newest line each time, the last one always), then ends with
exactly one of `models.pull.done`, `models.pull.cancelled` or `error`. A pull belongs to
its socket: closing the socket stops it, and Ollama keeps the part downloaded so far.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from backend.core.errors import AppError, BadRequest, NotFound
from backend.core.providers.ollama.types import OllamaStreamError
from backend.web.frames import FrameSocket, Handler, field

log = logging.getLogger("cloudtolocalllm.models")

PROGRESS_INTERVAL_S = 0.1


class LatestOnly:
    """Passes on the newest of the items offered, at most once per interval, from a thread
    of its own: an item waits at most one interval even when nothing follows it, and
    close() sends the one still waiting before it returns."""

    def __init__(
        self,
        send: Callable[[Any], object],
        interval_s: float,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._send, self._interval_s, self._clock = send, interval_s, clock
        self._cond = threading.Condition()
        self._pending: Any = None
        self._closed = False
        self._last_sent = float("-inf")
        self._thread = threading.Thread(target=self._run, name="pull-progress", daemon=True)
        self._thread.start()

    def offer(self, item: Any) -> None:
        with self._cond:
            self._pending = item
            self._cond.notify()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify()
        self._thread.join()

    def _run(self) -> None:
        while (item := self._next()) is not None:
            self._send(item)

    def _next(self) -> Any:
        with self._cond:
            while True:
                if self._pending is None:
                    if self._closed:
                        return None
                    self._cond.wait()
                    continue
                wait = self._last_sent + self._interval_s - self._clock()
                if wait <= 0 or self._closed:
                    item, self._pending = self._pending, None
                    self._last_sent = self._clock()
                    return item
                self._cond.wait(wait)


def progress_frame(request_id: str, name: str, line: dict[str, Any]) -> dict[str, Any]:
    """One line of Ollama's pull stream as a frame; `percent` is of the layer in `digest`."""
    frame: dict[str, Any] = {
        "type": "models.pull.progress",
        "request_id": request_id,
        "name": name,
        "status": str(line.get("status") or ""),
    }
    if isinstance(line.get("digest"), str):
        frame["digest"] = line["digest"]
    total = line.get("total")
    if type(total) is int:
        # Ollama leaves `completed` out while it is 0.
        completed = line.get("completed") if type(line.get("completed")) is int else 0
        frame.update(total=total, completed=completed)
        if total > 0:
            frame["percent"] = round(min(completed / total, 1.0) * 100, 1)
    return frame


class Pull:
    """One `models.pull` request: reads Ollama's stream in a thread, sends frames."""

    def __init__(
        self, socket: FrameSocket, request_id: str, name: str, registry: PullRegistry
    ) -> None:
        self.socket, self.request_id, self.name = socket, request_id, name
        self._registry = registry
        self.cancelled = threading.Event()
        self.stream = socket.services.models.pull(name)  # connects on the first read

    def start(self) -> None:
        thread = threading.Thread(target=self._run, name=f"pull-{self.name[:20]}", daemon=True)
        thread.start()

    def cancel(self) -> None:
        """From any thread: close the request to Ollama; `models.pull.cancelled` follows."""
        self.cancelled.set()
        self.stream.abort()

    def _run(self) -> None:
        final: dict[str, Any] | None = None
        try:
            final = self._stream()
        finally:
            # Released before the final frame, so the request_id may be reused at once.
            self._registry.remove(self)
            if final is not None:
                self.socket.send(final)
        if final is not None and final["type"] == "models.pull.done":
            self.socket.services.models.pulled(self.name)

    def _stream(self) -> dict[str, Any] | None:
        throttle = LatestOnly(self.socket.send, PROGRESS_INTERVAL_S)
        succeeded = False
        try:
            with self.stream as stream:
                for line in stream:
                    if line.get("status") == "success":
                        succeeded = True
                        break
                    throttle.offer(progress_frame(self.request_id, self.name, line))
                    if not self.socket.open:
                        stream.abort()  # nobody left to tell: stop downloading
        except AppError as exc:
            return self._error(exc)
        except Exception:
            # Whatever happened, the UI must get a final frame rather than a spinner.
            log.exception("pulling %s failed unexpectedly", self.name)
            return self._error(AppError("The pull failed unexpectedly"))
        finally:
            throttle.close()  # the last progress goes out before the final frame
        if succeeded:
            return self._final("models.pull.done", status="success")
        if self.cancelled.is_set():
            return self._final("models.pull.cancelled")
        return None  # the socket closed

    def _final(self, kind: str, **extra: Any) -> dict[str, Any]:
        return {"type": kind, "request_id": self.request_id, "name": self.name, **extra}

    def _error(self, exc: AppError) -> dict[str, Any]:
        if self.cancelled.is_set():
            return self._final("models.pull.cancelled")
        code = "pull_failed" if isinstance(exc, OllamaStreamError) else exc.code
        log.info("pull of %s failed: %s (%s)", self.name, exc.message, code)
        return {**self._final("error"), "code": code, "message": exc.message}


class PullRegistry:
    """The pulls in flight, by socket and request_id."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pulls: dict[tuple[int, str], Pull] = {}

    def add(self, pull: Pull) -> None:
        key = (id(pull.socket), pull.request_id)
        with self._lock:
            if key in self._pulls:
                message = f"A pull with request_id {pull.request_id!r} is still running"
                raise BadRequest(message, code="duplicate_request")
            self._pulls[key] = pull

    def remove(self, pull: Pull) -> None:
        with self._lock:
            self._pulls.pop((id(pull.socket), pull.request_id), None)

    def get(self, socket: FrameSocket, request_id: str) -> Pull | None:
        with self._lock:
            return self._pulls.get((id(socket), request_id))


PULLS = PullRegistry()


def models_pull(socket: FrameSocket, frame: dict[str, Any]) -> None:
    request_id = field(frame, "request_id", str)
    name = field(frame, "name", str).strip()
    pull = Pull(socket, request_id, name, PULLS)
    PULLS.add(pull)
    pull.start()


def models_pull_cancel(socket: FrameSocket, frame: dict[str, Any]) -> None:
    request_id = field(frame, "request_id", str)
    pull = PULLS.get(socket, request_id)
    if pull is None:
        raise NotFound(f"No pull in progress with request_id {request_id!r}")
    pull.cancel()


HANDLERS: dict[str, Handler] = {
    "models.pull": models_pull,
    "models.pull.cancel": models_pull_cancel,
}
