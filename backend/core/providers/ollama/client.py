"""A thin, typed client for Ollama's HTTP API: plain calls and NDJSON streams of events."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from backend.core.providers.abort import StreamAbort
from backend.core.providers.base import Model
from backend.core.providers.ollama.events import chat_batches, pull_events, wrong_type
from backend.core.providers.ollama.lines import line_batches, split_lines
from backend.core.providers.ollama.streams import ChatStream, PullStream
from backend.core.providers.ollama.types import (
    OllamaError,
    OllamaProtocolError,
    OllamaStreamError,
    OllamaUnavailable,
)
from backend.core.providers.transport import HTTPClient, response_text

if TYPE_CHECKING:
    import requests


class OllamaClient(HTTPClient):
    """Ollama's HTTP API, with failures raised as the typed errors of `types.py`."""

    kind = "ollama"
    server = "Ollama"
    unavailable = OllamaUnavailable
    protocol_error = OllamaProtocolError

    def version(self, timeout: float | None = None) -> str:
        body = self._get_json("GET", self._url("/api/version"), timeout=timeout)
        return str(body.get("version", ""))

    def list_models(self, timeout: float | None = None) -> list[Model]:
        body = self._get_json("GET", self._url("/api/tags"), timeout=timeout)
        return [_model(entry) for entry in body.get("models") or []]

    def show(self, model: str, timeout: float | None = None) -> dict:
        return self._get_json("POST", self._url("/api/show"), {"model": model}, timeout=timeout)

    def context_window(self, model: str, timeout: float | None = None) -> int | None:
        return context_length(self.show(model, timeout=timeout))

    def capabilities(self, model: str, timeout: float | None = None) -> list[str] | None:
        # Servers before `capabilities` existed (v0.6.4) leave it out: they can't say.
        listed = self.show(model, timeout=timeout).get("capabilities")
        return [str(c) for c in listed] if isinstance(listed, list) else None

    def chat(
        self,
        model: str,
        messages: list[dict],
        options: dict | None = None,
        *,
        think: bool | None = None,
    ) -> str:
        """A whole reply at once (`stream: false`): the message's content."""
        payload = _chat_payload(model, messages, options, think, stream=False)
        body = self._get_json("POST", self._url("/api/chat"), payload)
        if "error" in body:
            raise OllamaStreamError(str(body["error"]))
        message = body.get("message")
        content = message.get("content", "") if type(message) is dict else ""
        if type(content) is not str:
            raise wrong_type("message.content")
        return content

    def chat_stream(
        self,
        model: str,
        messages: list[dict],
        options: dict | None = None,
        *,
        think: bool | None = None,
    ) -> ChatStream:
        payload = _chat_payload(model, messages, options, think, stream=True)
        abort = StreamAbort()
        batches = self._stream_lines("/api/chat", payload, abort, split=line_batches)
        return ChatStream(chat_batches(batches, abort), abort)

    def pull(self, name: str) -> PullStream:
        abort = StreamAbort()
        lines = self._stream_lines("/api/pull", {"model": name, "stream": True}, abort)
        return PullStream(pull_events(lines, abort), abort)

    def delete(self, name: str) -> None:
        self._request("DELETE", self._url("/api/delete"), {"model": name}).close()

    # Plumbing.
    def _url(self, path: str) -> str:
        return self.base_url + path

    def _http_error(self, response: requests.Response) -> OllamaError:
        return _http_error(response)

    def _stream_lines(
        self,
        path: str,
        payload: dict,
        abort: StreamAbort,
        split: Callable[[Iterator[bytes]], Iterator[Any]] = split_lines,
    ) -> Iterator[Any]:
        """The NDJSON lines of a streamed answer (as `split` groups them), opened lazily."""
        return self._stream(self._url(path), payload, abort, split)


def context_length(show: dict[str, Any]) -> int | None:
    """The trained context length from `/api/show`: `model_info["<arch>.context_length"]`."""
    info = show.get("model_info") or {}
    arch = info.get("general.architecture")
    value = info.get(f"{arch}.context_length") if arch else None
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        # Some builds name the architecture differently: any `*.context_length` will do.
        candidates = [v for k, v in info.items() if k.endswith(".context_length")]
        value = next((v for v in candidates if isinstance(v, int) and v > 0), None)
    return value


def _chat_payload(
    model: str, messages: list[dict], options: dict | None, think: bool | None, *, stream: bool
) -> dict:
    payload: dict[str, Any] = {"model": model, "messages": messages, "stream": stream}
    if options:
        payload["options"] = options
    if think is not None:
        payload["think"] = think
    return payload


def _model(entry: dict) -> Model:
    return Model(
        name=str(entry.get("name") or entry.get("model") or ""),
        size=int(entry.get("size") or 0),
        modified_at=str(entry.get("modified_at") or ""),
        digest=str(entry.get("digest") or ""),
        details=dict(entry.get("details") or {}),
    )


def _http_error(response: requests.Response) -> OllamaError:
    """Ollama's `{"error": msg}` body (or the raw text) with the HTTP status."""
    text = response_text(response)
    try:
        message = json.loads(text).get("error")
    except (ValueError, AttributeError):
        message = None
    message = message or text.strip()[:200] or f"HTTP {response.status_code}"
    return OllamaError(str(message), status=response.status_code)
