"""A `/v1/chat/completions` SSE stream turned into the providers' chat events.

Reasoning comes three ways and all become `ThinkingDelta`: `delta.reasoning` (vLLM,
Ollama's /v1), `delta.reasoning_content` (older servers) and an inline `<think>` block
in `delta.content` (some llama.cpp builds). Tool-call deltas carry no text to show and
are passed over. The metrics come from the usage chunk (`choices: []`), llama.cpp's
`timings` when it sends them, and the client's own clock; what none of them says is None.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

from orjson import loads as fast_loads

from backend.core.errors import AppError
from backend.core.providers.abort import StreamAbort
from backend.core.providers.base import ChatDone, ChatEvent, ContentDelta, ThinkingDelta
from backend.core.providers.openai.sse import SSEDecoder
from backend.core.providers.openai.think import ThinkTags
from backend.core.providers.openai.types import (
    EndpointProtocolError,
    EndpointStreamError,
    error_message,
)
from backend.core.providers.streams import decode_object

_DONE = b"[DONE]"


class Tally:
    """What the stream said about itself, and when its tokens came, for `ChatDone`."""

    __slots__ = ("_clock", "started", "first_token", "last_token", "finish", "usage", "timings")

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self.started = clock()  # the request was sent
        self.first_token: float | None = None
        self.last_token: float | None = None
        self.finish: str | None = None
        self.usage: dict[str, Any] | None = None
        self.timings: dict[str, Any] | None = None

    def tokens_arrived(self) -> None:
        now = self._clock()
        if self.first_token is None:
            self.first_token = now
        self.last_token = now

    def done(self) -> ChatDone:
        usage, timings = self.usage or {}, self.timings or {}
        ended = self._clock()
        eval_ns = _ms_to_ns(timings.get("predicted_ms"))
        if eval_ns is None and self.first_token is not None and self.last_token is not None:
            eval_ns = round((self.last_token - self.first_token) * 1e9) or None
        return ChatDone(
            done_reason=self.finish or "stop",
            eval_count=_count(usage.get("completion_tokens", timings.get("predicted_n"))),
            prompt_eval_count=_count(usage.get("prompt_tokens", timings.get("prompt_n"))),
            total_duration=round((ended - self.started) * 1e9),
            load_duration=None,
            prompt_eval_duration=_ms_to_ns(timings.get("prompt_ms")),
            eval_duration=eval_ns,
        )


def _count(value: object) -> int | None:
    return value if type(value) is int and value >= 0 else None


def _ms_to_ns(value: object) -> int | None:
    if type(value) in (int, float) and value > 0:  # type: ignore[operator]
        return round(value * 1e6)  # type: ignore[operator]
    return None


def _malformed(data: bytes) -> EndpointProtocolError:
    # The event may hold model output: say what is wrong with it, never what it says.
    return EndpointProtocolError(
        f"The server sent a broken event ({len(data)} bytes that are not a JSON object); "
        "the reply was cut short"
    )


def _chunk_events(
    obj: dict[str, Any], tally: Tally, tags: ThinkTags, events: list[ChatEvent], run: list[str]
) -> None:
    """Add the events of one `chat.completion.chunk`; record its finish, usage, timings.

    Runs once per token: `in` tests and indexing, which cost less than `dict.get` calls.
    Visible text goes to `run`, which becomes one ContentDelta when something else comes
    or the read ends: consumers join a read's text anyway (the runner does, to send it).
    """
    if "error" in obj:
        raise EndpointStreamError(error_message(obj) or "The server reported an error")
    if "usage" in obj and obj["usage"]:
        tally.usage = obj["usage"]
    if "timings" in obj and obj["timings"]:
        tally.timings = obj["timings"]
    for choice in obj["choices"] if "choices" in obj and obj["choices"] else ():
        if "index" in choice and choice["index"]:  # n > 1 is never asked for: the first
            continue
        delta = choice["delta"] if "delta" in choice else None
        if delta:
            if "reasoning" in delta or "reasoning_content" in delta:
                if thought := delta.get("reasoning") or delta.get("reasoning_content"):
                    _flush(events, run)
                    events.append(ThinkingDelta(thought))
            if "content" in delta and (content := delta["content"]):
                if tags.plain:  # visible text has started: no tags to look for
                    run.append(content)
                else:
                    _flush(events, run)
                    events += tags.feed(content)
        if "finish_reason" in choice and choice["finish_reason"]:
            tally.finish = choice["finish_reason"]


def chat_batches(
    reads: Iterator[bytes], abort: StreamAbort, clock: Callable[[], float] = time.perf_counter
) -> Iterator[list[ChatEvent]]:
    """The hot loop: lists of events, one per network read (never empty), then ChatDone.

    The events before an error event come out before its error, as they would one by one.
    """
    decoder, tags, tally = SSEDecoder(), ThinkTags(), Tally(clock)
    try:
        for chunk in reads:
            events: list[ChatEvent] = []
            run: list[str] = []  # text not yet made a ContentDelta
            failure: AppError | None = None
            try:
                for data in decoder.feed(chunk):
                    if data == _DONE:
                        _flush(events, run)
                        yield _ending(events, tags, tally)
                        return
                    if data:  # an empty `data:` line is a keep-alive
                        try:
                            obj = fast_loads(data)
                        except ValueError:  # json's view (NaN…), or a broken event
                            obj = decode_object(data, _malformed)
                        if type(obj) is not dict:
                            raise _malformed(data)
                        _chunk_events(obj, tally, tags, events, run)
            except AppError as exc:
                failure = exc
            _flush(events, run)
            if events:
                tally.tokens_arrived()
                yield events
            if failure is not None:
                raise failure
        last = decoder.finish()
        if last == _DONE or (last is None and tally.finish is not None):
            # Without [DONE] but after a finish_reason (some servers stop there): complete.
            yield _ending([], tags, tally)
        elif not abort.aborted:
            raise EndpointProtocolError("The server's reply ended before it was finished")
    finally:
        reads.close()  # type: ignore[attr-defined]


def _flush(events: list[ChatEvent], run: list[str]) -> None:
    if run:
        events.append(ContentDelta(run[0] if len(run) == 1 else "".join(run)))
        run.clear()


def _ending(events: list[ChatEvent], tags: ThinkTags, tally: Tally) -> list[ChatEvent]:
    if events:
        tally.tokens_arrived()
    return [*events, *tags.flush(), tally.done()]
