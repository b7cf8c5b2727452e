"""The reply thread: fit the context, stream from Ollama, store as it goes, end with one frame."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from backend.chat.context import ContextWindows, fit
from backend.chat.reply import Reply
from backend.errors import AppError
from backend.ollama import ChatDone, ContentDelta, OllamaClient, OllamaUnavailable, ThinkingDelta

log = logging.getLogger("cloudtolocalllm.chat")


@dataclass(frozen=True)
class ReplyPlan:
    """What one reply sends to Ollama, before the history is fitted to the context."""

    model: str
    messages: list[dict[str, Any]]
    options: dict[str, Any] | None
    think: bool | None


class ThinkingTimer:
    """How long a reasoning model thought: first thinking delta to first content delta."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._started: float | None = None
        self._ended: float | None = None

    def thinking(self) -> None:
        if self._started is None:
            self._started = self._clock()

    def content(self) -> None:
        if self._started is not None and self._ended is None:
            self._ended = self._clock()

    def elapsed_ms(self) -> float | None:
        """None without thinking; a reply that ended while thinking counts until now."""
        if self._started is None:
            return None
        ended = self._ended if self._ended is not None else self._clock()
        return round((ended - self._started) * 1000, 1)


class ReplyRunner:
    """Runs one reply to its end; the service does the bookkeeping around it."""

    def __init__(
        self,
        store: Any,
        client: Callable[[], OllamaClient],
        windows: ContextWindows,
        *,
        persist_interval_s: float,
        clock: Callable[[], float],
        on_ollama_failure: Callable[[], None],
    ) -> None:
        self.store = store
        self._client = client
        self._windows = windows
        self._persist_interval_s = persist_interval_s
        self._clock = clock
        self._on_ollama_failure = on_ollama_failure

    def run(self, reply: Reply, plan: ReplyPlan) -> dict:
        """Stream and store the reply; returns its final frame (without `seq`)."""
        num_ctx = self._windows.num_ctx(plan.model, plan.options)
        fitted = fit(plan.messages, num_ctx, plan.options)
        reply.begin(fitted.frame_info())
        client = self._client()
        stream = client.chat_stream(plan.model, fitted.messages, plan.options, think=plan.think)
        reply.stream = stream
        if reply.cancel_requested.is_set():  # cancelled before the stream existed to abort
            stream.abort()
        return self._stream_and_store(reply)

    def _stream_and_store(self, reply: Reply) -> dict:
        writer = _ProgressWriter(
            self.store, reply.message_id, self._persist_interval_s, self._clock
        )
        timer = ThinkingTimer(self._clock)
        done: ChatDone | None = None
        failure: AppError | None = None
        try:
            with reply.stream as stream:
                for event in stream:
                    if reply.cancel_requested.is_set():
                        break
                    if isinstance(event, ContentDelta):
                        timer.content()
                        reply.push(content=event.text)
                        writer.content.append(event.text)
                    elif isinstance(event, ThinkingDelta):
                        timer.thinking()
                        reply.push(thinking=event.text)
                        writer.thinking.append(event.text)
                    elif isinstance(event, ChatDone):
                        done = event
                    writer.maybe_flush()
        except AppError as exc:
            failure = exc
        return self._finalize(reply, writer, done, failure, timer.elapsed_ms())

    def _finalize(
        self,
        reply: Reply,
        writer: _ProgressWriter,
        done: ChatDone | None,
        failure: AppError | None,
        thinking_ms: float | None,
    ) -> dict:
        content, _thinking = writer.text()
        thought = {"thinking_ms": thinking_ms} if thinking_ms is not None else None
        if reply.cancel_requested.is_set():
            status = reply.stop_reason
            writer.store_final(status=status, stats=thought)
            log.info("reply %s %s after %d chars", reply.message_id, status, len(content))
            if status == "interrupted":
                return error_frame(reply, "interrupted", "The app is shutting down", content)
            return {"type": "cancelled", "message_id": reply.message_id, "content": content}
        if failure is None and done is not None:
            stats = {**done.stats(), **(thought or {})}
            writer.store_final(status="complete", stats=stats)
            return {
                "type": "complete",
                "message_id": reply.message_id,
                "content": content,
                "done_reason": done.done_reason,
                "stats": stats,
            }
        if failure is None:  # the client raises for a stream without `done`; be safe anyway
            failure = AppError("Ollama ended the reply early", code="ollama_protocol_error")
        writer.store_final(status="error", error=failure.message, stats=thought)
        log.warning("reply %s failed: %s (%s)", reply.message_id, failure.code, failure.message)
        if (
            isinstance(failure, OllamaUnavailable)
            or getattr(failure, "status", 0) >= 500
            or failure.code in ("ollama_stream_error", "ollama_protocol_error")
        ):
            self._on_ollama_failure()
        return error_frame(reply, failure.code, failure.message, content)


class _ProgressWriter:
    """Accumulates a reply's text and stores it at most once per interval while it grows."""

    def __init__(
        self, store: Any, message_id: str, interval_s: float, clock: Callable[[], float]
    ) -> None:
        self.store, self.message_id = store, message_id
        self.content: list[str] = []
        self.thinking: list[str] = []
        self._interval_s, self._clock = interval_s, clock
        self._last_flush = clock()
        self._flushed_parts = 0
        self.writes = 0

    def text(self) -> tuple[str, str]:
        return "".join(self.content), "".join(self.thinking)

    def maybe_flush(self) -> None:
        now = self._clock()
        if now - self._last_flush < self._interval_s:
            return
        self._last_flush = now
        parts = len(self.content) + len(self.thinking)
        if parts == self._flushed_parts:
            return
        self._flushed_parts = parts
        content, thinking = self.text()
        self.store.update_message(self.message_id, content=content, thinking=thinking or None)
        self.writes += 1

    def store_final(
        self, *, status: str, error: str | None = None, stats: dict | None = None
    ) -> None:
        content, thinking = self.text()
        self.store.update_message(
            self.message_id,
            content=content,
            thinking=thinking or None,
            status=status,
            error=error,
            stats=stats,
        )
        self.writes += 1


def error_frame(reply: Reply, code: str, message: str, content: str = "") -> dict:
    return {
        "type": "error",
        "code": code,
        "message": message,
        "request_id": reply.request_id,
        "message_id": reply.message_id,
        "content": content,
    }
