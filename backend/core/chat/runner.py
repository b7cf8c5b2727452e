"""The reply thread: fit the context, stream from Ollama, store as it goes, end with one frame."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from backend.core.chat.context import ContextWindows, fit
from backend.core.chat.progress import ProgressWriter
from backend.core.chat.reply import Reply
from backend.core.errors import AppError
from backend.core.providers.base import ChatDone, ContentDelta, ReplyStream, ThinkingDelta
from backend.core.providers.registry import Endpoints
from backend.core.store import StoreError
from backend.core.store.store import Store

log = logging.getLogger("cloudtolocalllm.chat")


@dataclass(frozen=True)
class ReplyPlan:
    """What one reply sends to its provider, before the history is fitted to the context."""

    endpoint_id: str
    model: str
    messages: list[dict[str, Any]]
    options: dict[str, Any] | None
    think: bool | None
    # `messages` ends with the reply's own text so far, for the model to carry on.
    continues: bool = False


@dataclass(frozen=True)
class Outcome:
    """How the stream ended: its `done` event, or the failure, and the time spent thinking."""

    done: ChatDone | None
    failure: AppError | None
    thinking_ms: float | None


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
        store: Store,
        endpoints: Endpoints,
        windows: ContextWindows,
        *,
        persist_interval_s: float,
        clock: Callable[[], float],
        on_ollama_failure: Callable[[], None],
    ) -> None:
        self.store = store
        self._endpoints = endpoints
        self._windows = windows
        self._persist_interval_s = persist_interval_s
        self._clock = clock
        self._on_ollama_failure = on_ollama_failure

    def run(self, reply: Reply, plan: ReplyPlan) -> dict:
        """Stream and store the reply; returns its final frame (without `seq`), and the
        message is stored in the state that frame tells, whatever went wrong."""
        writer = ProgressWriter(
            self.store,
            reply.message_id,
            self._persist_interval_s,
            self._clock,
            prefix=reply.prefix,
        )
        try:
            opened = self._open(reply, plan)
        except AppError as exc:
            return self._finalize(reply, writer, Outcome(None, exc, None))
        except Exception as exc:  # noqa: BLE001 - the contract's final state, even for a bug
            return self._finalize(reply, writer, Outcome(None, unexpected(reply, exc), None))
        return self._stream_and_store(reply, writer, opened)

    def _open(self, reply: Reply, plan: ReplyPlan) -> ReplyStream:
        provider = self._endpoints.get(plan.endpoint_id)
        num_ctx = self._windows.num_ctx(provider, plan.model, plan.options)
        # A continued reply keeps its question and its own text so far.
        fitted = fit(plan.messages, num_ctx, plan.options, keep=2 if plan.continues else 1)
        reply.begin(fitted.frame_info())
        stream = provider.chat_stream(plan.model, fitted.messages, plan.options, think=plan.think)
        return reply.attach(stream)

    def _stream_and_store(self, reply: Reply, writer: ProgressWriter, opened: ReplyStream) -> dict:
        timer = ThinkingTimer(self._clock)
        done: ChatDone | None = None
        failure: AppError | None = None
        try:
            with opened as stream:
                # A network read at a time: at full speed one holds dozens of tokens, and
                # they go to the readers (one lock, one wake-up) and the writer together.
                for events in stream.batches():
                    if reply.cancel_requested.is_set():
                        break
                    content: list[str] = []
                    thinking: list[str] = []
                    for event in events:
                        if isinstance(event, ContentDelta):
                            timer.content()
                            content.append(event.text)
                        elif isinstance(event, ThinkingDelta):
                            timer.thinking()
                            thinking.append(event.text)
                        elif isinstance(event, ChatDone):
                            done = event
                    if content or thinking:
                        text, thought = "".join(content), "".join(thinking)
                        reply.push(content=text, thinking=thought)
                        if text:
                            writer.content.append(text)
                        if thought:
                            writer.thinking.append(thought)
                    writer.maybe_flush()
        except AppError as exc:
            failure = exc
        except Exception as exc:  # noqa: BLE001 - the text shown so far is stored all the same
            failure = unexpected(reply, exc)
        return self._finalize(reply, writer, Outcome(done, failure, timer.elapsed_ms()))

    def _finalize(self, reply: Reply, writer: ProgressWriter, outcome: Outcome) -> dict:
        content, _thinking = writer.text()
        try:
            return self._store_outcome(reply, writer, outcome, content)
        except StoreError as exc:
            # The disk is full or the database broke: the text so far (stored up to the last
            # batch that could be) still reaches the UI, which must not lose what it shows.
            log.error("reply %s could not be stored: %s", reply.message_id, exc.code)
            writer.store_failed(exc.message)
            return error_frame(reply, exc.code, exc.message, content)

    def _store_outcome(
        self, reply: Reply, writer: ProgressWriter, outcome: Outcome, content: str
    ) -> dict:
        done, failure = outcome.done, outcome.failure
        thought = _kept_stats(reply, outcome.thinking_ms)
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
            log.info("reply %s complete: %s tokens", reply.message_id, done.eval_count)
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
        log.warning("reply %s failed: %s", reply.message_id, failure.code)
        if not isinstance(failure, StoreError) and reply.endpoint_id == self._endpoints.default:
            # Any failure from Ollama (down, crashed, model deleted…): the monitor looks now.
            # An added endpoint's own monitor finds out at its next heartbeat.
            self._on_ollama_failure()
        return error_frame(reply, failure.code, failure.message, content)


def unexpected(reply: Reply, exc: Exception) -> AppError:
    """A bug, not a fault of Ollama's or the disk's: logged whole, told in a sentence."""
    log.error("reply %s failed unexpectedly", reply.message_id, exc_info=exc)
    return AppError("The reply failed unexpectedly")


def error_frame(reply: Reply, code: str, message: str, content: str = "") -> dict:
    return {
        "type": "error",
        "code": code,
        "message": message,
        "request_id": reply.request_id,
        "message_id": reply.message_id,
        "content": content,
    }


def _kept_stats(reply: Reply, thinking_ms: float | None) -> dict | None:
    """What a reply stores in `stats` whatever its end: the thinking time, and the trim
    (`context`) when older messages were left out, so the notice outlives the stream."""
    kept: dict = {}
    if thinking_ms is not None:
        kept["thinking_ms"] = thinking_ms
    if reply.context and reply.context.get("dropped"):
        kept["context"] = reply.context
    return kept or None
