"""Ollama's NDJSON lines as typed events, every field's type checked before it is used.

Ollama is a peer, not a part of the app: a line with a field of the wrong type, a lone
surrogate or a number that fits no column must end the reply with a protocol error, never
with a crash that loses the text already shown.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import orjson

from backend.core.errors import AppError
from backend.core.providers.abort import StreamAbort
from backend.core.providers.base import ChatDone, ChatEvent, ContentDelta, ThinkingDelta
from backend.core.providers.ollama.types import OllamaProtocolError, OllamaStreamError

_fast_loads = orjson.loads
_MAX_COUNT = 2**63 - 1  # a stats field beyond SQLite's INTEGER is not a count
_MAX_ERROR_CHARS = 1000  # Ollama's own error sentences are one line


def malformed(line: bytes) -> OllamaProtocolError:
    # The line may hold model output: say what is wrong with it, never what it says.
    return OllamaProtocolError(
        f"Ollama sent a broken line ({len(line)} bytes that are not a JSON object); "
        "the reply was cut short"
    )


def wrong_type(field: str) -> OllamaProtocolError:
    return OllamaProtocolError(
        f"Ollama sent a line whose `{field}` has the wrong type; the reply was cut short"
    )


def parse_line(line: bytes) -> dict[str, Any]:
    """One line as a JSON object; lone surrogates in the text fields become U+FFFD."""
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError:
        obj = _lenient(line)  # what orjson refuses: NaN, big integers, lone surrogates
    if type(obj) is not dict:
        raise malformed(line)
    return obj


def _lenient(line: bytes) -> Any:
    try:
        obj = json.loads(line)
    except (ValueError, RecursionError) as exc:
        raise malformed(line) from exc
    if type(obj) is dict:
        # Go's decoder (Ollama's own) turns a lone surrogate into U+FFFD; so do we, in the
        # fields the app keeps. UTF-8 cannot hold one, so the database would refuse it.
        _make_valid_text(obj, ("error", "done_reason"))
        if type(obj.get("message")) is dict:
            _make_valid_text(obj["message"], ("content", "thinking"))
    return obj


def _make_valid_text(obj: dict[str, Any], keys: tuple[str, ...]) -> None:
    for key in keys:
        value = obj.get(key)
        if type(value) is str:
            obj[key] = value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def stream_error(value: Any) -> OllamaStreamError:
    if type(value) is not str or not value.strip():
        return OllamaStreamError("Ollama reported an error without saying what it was")
    return OllamaStreamError(value[:_MAX_ERROR_CHARS])


def chat_batches(batches: Iterator[list[bytes]], abort: StreamAbort) -> Iterator[list[ChatEvent]]:
    """The hot loop: one JSON parse and a few dict lookups per token, a list per read.

    The events before a broken or error line come out before its error, as they would
    one by one.
    """
    try:
        for lines in batches:
            events: list[ChatEvent] = []
            failure: AppError | None = None
            for line in lines:
                try:
                    # parse_line inlined, each field's type checked here: this runs once a token.
                    try:
                        obj = _fast_loads(line)
                    except orjson.JSONDecodeError:
                        obj = _lenient(line)
                    if type(obj) is not dict:
                        raise malformed(line)
                    if "error" in obj:
                        raise stream_error(obj["error"])
                    message = obj.get("message")
                    if type(message) is dict:
                        if thinking := message.get("thinking"):
                            if type(thinking) is not str:
                                raise wrong_type("message.thinking")
                            events.append(ThinkingDelta(thinking))
                        if content := message.get("content"):
                            if type(content) is not str:
                                raise wrong_type("message.content")
                            events.append(ContentDelta(content))
                    elif message is not None:
                        raise wrong_type("message")
                    if obj.get("done") is True:
                        events.append(chat_done(obj))
                        yield events
                        return
                except AppError as exc:
                    failure = exc
                    break
            if events:
                yield events
            if failure is not None:
                raise failure
        if not abort.aborted:
            raise OllamaProtocolError("Ollama's reply ended without its final (done) line")
    finally:
        batches.close()  # type: ignore[attr-defined]


def pull_events(lines: Iterator[bytes], abort: StreamAbort) -> Iterator[dict[str, Any]]:
    try:
        for line in lines:
            obj = parse_line(line)
            if "error" in obj:
                raise stream_error(obj["error"])
            yield obj
            if obj.get("status") == "success":
                return
        if not abort.aborted:
            raise OllamaProtocolError("Ollama's pull ended without success")
    finally:
        lines.close()  # type: ignore[attr-defined]


def chat_done(obj: dict[str, Any]) -> ChatDone:
    def count(key: str) -> int:
        value = obj.get(key)
        return value if type(value) is int and 0 <= value <= _MAX_COUNT else 0

    reason = obj.get("done_reason")
    return ChatDone(
        done_reason=reason if type(reason) is str and reason else "stop",
        eval_count=count("eval_count"),
        prompt_eval_count=count("prompt_eval_count"),
        total_duration=count("total_duration"),
        load_duration=count("load_duration"),
        prompt_eval_duration=count("prompt_eval_duration"),
        eval_duration=count("eval_duration"),
    )
