"""Typed events and errors of the Ollama client: one event per NDJSON line."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from backend.core.errors import AppError


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
    """The final line of a chat stream, with Ollama's metrics (durations in ns)."""

    done_reason: str
    eval_count: int = 0
    prompt_eval_count: int = 0
    total_duration: int = 0
    load_duration: int = 0
    prompt_eval_duration: int = 0
    eval_duration: int = 0

    def stats(self) -> dict[str, Any]:
        """The contract's `stats` object: counts, durations in ms, tokens per second."""
        tps = self.eval_count / (self.eval_duration / 1e9) if self.eval_duration else None
        return {
            "eval_count": self.eval_count,
            "prompt_eval_count": self.prompt_eval_count,
            "total_duration_ms": round(self.total_duration / 1e6, 3),
            "load_duration_ms": round(self.load_duration / 1e6, 3),
            "prompt_eval_duration_ms": round(self.prompt_eval_duration / 1e6, 3),
            "eval_duration_ms": round(self.eval_duration / 1e6, 3),
            "tokens_per_second": round(tps, 2) if tps is not None else None,
        }


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


class OllamaUnavailable(AppError):
    """Ollama could not be reached: refused, unreachable, timed out, or the socket died."""

    code = "ollama_unavailable"
    http_status = 503


class OllamaError(AppError):
    """Ollama answered with an HTTP error and its `{"error": …}` body."""

    code = "ollama_error"
    http_status = 502

    def __init__(self, message: str, *, status: int, code: str | None = None) -> None:
        super().__init__(message, code=code or _code_for_status(status, message))
        self.status = status


class OllamaStreamError(AppError):
    """Ollama reported an error inside a stream that had started (`{"error": …}` line)."""

    code = "ollama_stream_error"
    http_status = 502


class OllamaProtocolError(AppError):
    """The stream broke Ollama's protocol: a malformed line, or it ended without `done`."""

    code = "ollama_protocol_error"
    http_status = 502


def _code_for_status(status: int, message: str) -> str:
    if status == 404 and "not found" in message.lower():
        return "model_not_found"
    return {400: "ollama_bad_request", 404: "ollama_not_found", 503: "ollama_busy"}.get(
        status, "ollama_error"
    )
