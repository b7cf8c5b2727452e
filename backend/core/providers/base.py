"""The seam between the app and a model server: what every provider offers.

The chat service, the model catalogue and the connection monitor talk to a `Provider`,
never to a concrete client. Ollama's client (`ollama/`) is the first implementation; an
OpenAI-compatible one is the next. A provider streams a reply as the typed events below,
one network read at a time, and raises the typed errors of `backend.core.errors`'s
`AppError` family: the provider-neutral ones of `errors.py` or subclasses of them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol, Self, runtime_checkable


@dataclass(frozen=True, slots=True)
class ContentDelta:
    """A piece of the reply's visible text (`message.content`)."""

    text: str


@dataclass(frozen=True, slots=True)
class ThinkingDelta:
    """A piece of a reasoning model's thinking (`message.thinking`)."""

    text: str


@dataclass(frozen=True, slots=True)
class ChatDone:
    """The end of a chat stream, with its metrics (durations in ns). Ollama reports them
    all; other servers report some, and a metric a server does not report is None."""

    done_reason: str
    eval_count: int | None = 0
    prompt_eval_count: int | None = 0
    total_duration: int | None = 0
    load_duration: int | None = 0
    prompt_eval_duration: int | None = 0
    eval_duration: int | None = 0

    def stats(self) -> dict[str, Any]:
        """The contract's `stats` object: counts, durations in ms, tokens per second."""
        tps = None
        if self.eval_count is not None and self.eval_duration:
            tps = round(self.eval_count / (self.eval_duration / 1e9), 2)
        return {
            "eval_count": self.eval_count,
            "prompt_eval_count": self.prompt_eval_count,
            "total_duration_ms": _ms(self.total_duration),
            "load_duration_ms": _ms(self.load_duration),
            "prompt_eval_duration_ms": _ms(self.prompt_eval_duration),
            "eval_duration_ms": _ms(self.eval_duration),
            "tokens_per_second": tps,
        }


def _ms(nanoseconds: int | None) -> float | None:
    return None if nanoseconds is None else round(nanoseconds / 1e6, 3)


ChatEvent = ContentDelta | ThinkingDelta | ChatDone


@dataclass(frozen=True, slots=True)
class Model:
    """An installed model as `/api/tags` lists it."""

    name: str
    size: int
    modified_at: str
    digest: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "size": self.size,
            "modified_at": self.modified_at,
            "digest": self.digest,
            "details": dict(self.details),
        }


class ReplyStream(Protocol):
    """One streamed reply: its events, in order; closable from the reading thread and
    abortable from any other (a blocked read then returns at once and the stream ends)."""

    def __iter__(self) -> Self: ...

    def __next__(self) -> ChatEvent: ...

    def batches(self) -> Iterator[list[ChatEvent]]:
        """The same events, one list per network read; never an empty list."""
        ...

    @property
    def aborted(self) -> bool: ...

    def close(self) -> None: ...

    def abort(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(self, *exc: object) -> None: ...


@runtime_checkable
class Provider(Protocol):
    """A model server the app can chat with."""

    kind: str  # "ollama" or "openai": the contract's endpoint kinds
    base_url: str

    def version(self, timeout: float | None = None) -> str:
        """A cheap call that proves the server is up (its version, or "" if it has none)."""
        ...

    def list_models(self, timeout: float | None = None) -> list[Model]: ...

    def context_window(self, model: str, timeout: float | None = None) -> int | None:
        """The model's own context length in tokens, or None if the server can't say."""
        ...

    def capabilities(self, model: str, timeout: float | None = None) -> list[str] | None:
        """What the model can do as the server words it (Ollama: "completion", "vision",
        "tools", …), or None if the server can't say."""
        ...

    def chat(
        self,
        model: str,
        messages: list[dict],
        options: dict | None = None,
        *,
        think: bool | None = None,
    ) -> str:
        """A whole reply at once (titles); `think` as for `chat_stream`."""
        ...

    def chat_stream(
        self,
        model: str,
        messages: list[dict],
        options: dict | None = None,
        *,
        think: bool | None = None,
    ) -> ReplyStream:
        """`messages` as Ollama words them: a user message's images are its `images`, a
        list of base64 strings; each provider puts them in its own form."""
        ...

    def close(self) -> None: ...


class PullStream(Protocol):
    """A model download's progress lines (dicts, as the server words them), in order;
    abortable from any thread (the server keeps what it downloaded so far)."""

    def __iter__(self) -> Iterator[dict[str, Any]]: ...

    def abort(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(self, *exc: object) -> None: ...


@runtime_checkable
class ModelManager(Protocol):
    """What a provider that manages its own models adds (Ollama: pull and delete)."""

    def pull(self, name: str) -> PullStream: ...

    def delete(self, name: str) -> None: ...
