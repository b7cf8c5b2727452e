"""The streaming core: store the user's message, stream Ollama's reply, store it as it goes."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from backend.chat.history import build_messages, title_from
from backend.chat.models import ModelCatalog
from backend.chat.reply import Reply
from backend.errors import AppError, BadRequest, Busy, NotFound
from backend.ollama import ChatDone, ContentDelta, OllamaClient, OllamaUnavailable, ThinkingDelta

log = logging.getLogger("cloudtolocalllm.chat")

MAX_CONTENT_BYTES = 1024 * 1024


class ChatService:
    """Starts replies, one thread each, and keeps track of those in flight."""

    def __init__(
        self,
        store: Any,
        client: OllamaClient,
        *,
        persist_interval_s: float = 0.25,
        max_content_bytes: int = MAX_CONTENT_BYTES,
        clock: Callable[[], float] = time.monotonic,
        on_ollama_failure: Callable[[], None] | None = None,
        publish: Callable[[str, dict], None] | None = None,
        default_model: Callable[[], str | None] | None = None,
    ) -> None:
        self.store = store
        self.client = client  # replaced when the user points the app at another Ollama
        self.models = ModelCatalog(lambda: self.client)
        self._persist_interval_s = persist_interval_s
        self._max_content_bytes = max_content_bytes
        self._clock = clock
        self._on_ollama_failure = on_ollama_failure or (lambda: None)
        self._publish = publish or (lambda topic, payload: None)
        self._default_model = default_model or (lambda: None)
        self._lock = threading.Lock()
        self._by_message: dict[str, Reply] = {}
        self._busy_conversations: set[str] = set()
        self._closing = False

    # -- public API -----------------------------------------------------------------

    def send(
        self,
        conversation_id: str | None,
        content: str,
        model: str | None = None,
        options: dict | None = None,
        request_id: str | None = None,
    ) -> Reply:
        """Store the user's message and start the reply; raises AppError on bad input."""
        content = self._checked_content(content)
        options = _checked_options(options)
        conversation = (
            self.store.get_conversation(conversation_id, with_messages=False)
            if conversation_id is not None
            else None
        )
        self._reserve(conversation_id)
        try:
            chosen = self.models.resolve(
                model or (conversation or {}).get("model") or self._default_model()
            )
            conversation = self._conversation_for(conversation, content, chosen)
            return self._start(conversation, content, chosen, options, request_id)
        except BaseException:
            self._release(conversation_id)
            raise

    def cancel(self, message_id: str) -> Reply:
        """Stop a reply in flight; its final `cancelled` frame follows promptly."""
        with self._lock:
            reply = self._by_message.get(message_id)
        if reply is None:
            raise NotFound(f"No reply in progress with id {message_id!r}")
        self._stop(reply)
        return reply

    def active(self, conversation_id: str | None = None) -> list[Reply]:
        with self._lock:
            return [
                r for r in self._by_message.values() if conversation_id in (None, r.conversation_id)
            ]

    def shutdown(self, timeout: float = 5.0) -> None:
        """Stop every reply in flight, keeping its text as `interrupted`, and wait for it."""
        with self._lock:
            self._closing = True
            replies = list(self._by_message.values())
        for reply in replies:
            reply.stop_reason = "interrupted"
            self._stop(reply)
        deadline = self._clock() + timeout
        for reply in replies:
            reply.finished.wait(max(0.0, deadline - self._clock()))

    # -- starting a reply -------------------------------------------------------------

    def _checked_content(self, content: Any) -> str:
        if not isinstance(content, str):
            raise BadRequest("`content` must be a string", code="invalid_field")
        try:
            size = len(content.encode("utf-8"))
        except UnicodeEncodeError as exc:
            raise BadRequest("The message is not valid Unicode text", code="invalid_text") from exc
        if size > self._max_content_bytes:
            raise BadRequest("The message is longer than 1 MiB", code="content_too_large")
        if not content.strip():
            raise BadRequest("The message is empty", code="empty_message")
        return content

    def _reserve(self, conversation_id: str | None) -> None:
        with self._lock:
            if self._closing:
                raise AppError("The app is shutting down", code="shutting_down")
            if conversation_id is None:
                return
            if conversation_id in self._busy_conversations:
                raise Busy("A reply is still streaming in this conversation; stop it or wait")
            self._busy_conversations.add(conversation_id)

    def _release(self, conversation_id: str | None) -> None:
        with self._lock:
            self._busy_conversations.discard(conversation_id)

    def _conversation_for(self, conversation: dict | None, content: str, model: str) -> dict:
        if conversation is None:
            created = self.store.create_conversation(title=title_from(content), model=model)
            self._reserve(created["id"])
            self._publish("conversation.created", created)
            return created
        if conversation.get("model") != model:
            return self.store.update_conversation(conversation["id"], model=model)
        return conversation

    def _start(
        self,
        conversation: dict,
        content: str,
        model: str,
        options: dict | None,
        request_id: str | None,
    ) -> Reply:
        cid = conversation["id"]
        # The user's words are committed before Ollama hears of them: never lost.
        user = self.store.add_message(cid, "user", content)
        assistant = self.store.add_message(cid, "assistant", "", status="streaming", model=model)
        earlier = self.store.history(cid, before_message_id=assistant["id"])
        messages = build_messages(conversation.get("system_prompt"), earlier)
        reply = Reply(
            request_id=request_id,
            conversation_id=cid,
            user_message_id=user["id"],
            message_id=assistant["id"],
            model=model,
        )
        reply.stream = self.client.chat_stream(model, messages, options)
        with self._lock:
            self._by_message[reply.message_id] = reply
        reply.thread = threading.Thread(
            target=self._run, args=(reply,), name=f"reply-{reply.message_id[:8]}", daemon=True
        )
        reply.thread.start()
        return reply

    def _stop(self, reply: Reply) -> None:
        reply.cancel_requested.set()
        reply.stream.abort()  # wakes a read blocked on a slow Ollama at once

    # -- the reply thread ---------------------------------------------------------------

    def _run(self, reply: Reply) -> None:
        # Should anything unexpected escape, readers still get a final frame, not a hang.
        final = _error_frame(reply, "internal_error", "The reply failed unexpectedly")
        try:
            final = self._stream_and_store(reply)
        finally:
            # Released before the final frame goes out, so the client may send again at once.
            with self._lock:
                self._by_message.pop(reply.message_id, None)
                self._busy_conversations.discard(reply.conversation_id)
            reply.finish(final)
        self._publish("conversation.updated", {"id": reply.conversation_id})

    def _stream_and_store(self, reply: Reply) -> dict:
        writer = _ProgressWriter(
            self.store, reply.message_id, self._persist_interval_s, self._clock
        )
        done: ChatDone | None = None
        failure: AppError | None = None
        try:
            with reply.stream as stream:
                for event in stream:
                    if reply.cancel_requested.is_set():
                        break
                    if isinstance(event, ContentDelta):
                        reply.push(content=event.text)
                        writer.content.append(event.text)
                    elif isinstance(event, ThinkingDelta):
                        reply.push(thinking=event.text)
                        writer.thinking.append(event.text)
                    elif isinstance(event, ChatDone):
                        done = event
                    writer.maybe_flush()
        except AppError as exc:
            failure = exc
        return self._finalize(reply, writer, done, failure)

    def _finalize(
        self, reply: Reply, writer: _ProgressWriter, done: ChatDone | None, failure: AppError | None
    ) -> dict:
        content, thinking = writer.text()
        if reply.cancel_requested.is_set():
            status = reply.stop_reason
            writer.store_final(status=status)
            log.info("reply %s %s after %d chars", reply.message_id, status, len(content))
            if status == "interrupted":
                return _error_frame(reply, "interrupted", "The app is shutting down", content)
            return {"type": "cancelled", "message_id": reply.message_id, "content": content}
        if failure is None and done is not None:
            stats = done.stats()
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
        writer.store_final(status="error", error=failure.message)
        log.warning("reply %s failed: %s (%s)", reply.message_id, failure.code, failure.message)
        if (
            isinstance(failure, OllamaUnavailable)
            or getattr(failure, "status", 0) >= 500
            or failure.code in ("ollama_stream_error", "ollama_protocol_error")
        ):
            self._on_ollama_failure()
        return _error_frame(reply, failure.code, failure.message, content)


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


def _error_frame(reply: Reply, code: str, message: str, content: str = "") -> dict:
    return {
        "type": "error",
        "code": code,
        "message": message,
        "request_id": reply.request_id,
        "message_id": reply.message_id,
        "content": content,
    }


def _checked_options(options: Any) -> dict | None:
    if options is None:
        return None
    if not isinstance(options, dict):
        raise BadRequest("`options` must be an object", code="invalid_field")
    for key, value in options.items():
        if not isinstance(value, int | float | str | bool | list) or value is None:
            raise BadRequest(f"Option {key!r} has an unsupported value", code="invalid_field")
    return options
