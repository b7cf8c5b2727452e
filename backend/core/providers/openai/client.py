"""A client for OpenAI-compatible servers (LM Studio, llama.cpp, vLLM, Jan, Ollama's /v1).

`base_url` is the server as the user gives it, with or without the `/v1` suffix. SSE is
parsed here rather than by the `openai` SDK, which hides the fields these servers add
(`reasoning`, `timings`, `max_model_len`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from backend.core.image_types import base64_type
from backend.core.providers.abort import StreamAbort
from backend.core.providers.base import Model
from backend.core.providers.openai.stream import chat_batches
from backend.core.providers.openai.think import strip_think
from backend.core.providers.openai.types import (
    EndpointError,
    EndpointProtocolError,
    EndpointUnavailable,
    error_message,
)
from backend.core.providers.streams import ChatStream
from backend.core.providers.transport import HTTPClient, response_text

if TYPE_CHECKING:
    import requests

# Ollama's options with an OpenAI request field of the same meaning; the rest (num_ctx,
# top_k, repeat_penalty…) have none that every server takes, so they are not sent.
_OPTION_FIELDS = {
    "temperature": "temperature",
    "top_p": "top_p",
    "seed": "seed",
    "stop": "stop",
    "num_predict": "max_tokens",
    "presence_penalty": "presence_penalty",
    "frequency_penalty": "frequency_penalty",
}
_REFUSED = (400, 422)  # how servers that validate fields strictly turn stream_options away
# A history that ends with the assistant's own text asks for that text to be carried on:
# llama.cpp and LM Studio do so by themselves, vLLM only with these fields.
_CONTINUE_FIELDS = {"continue_final_message": True, "add_generation_prompt": False}
_USAGE_FIELDS = {"stream_options": {"include_usage": True}}


class OpenAIClient(HTTPClient):
    """`/v1/models` and `/v1/chat/completions`, failures raised as `types.py`'s errors."""

    kind = "openai"
    unavailable = EndpointUnavailable
    protocol_error = EndpointProtocolError

    def __init__(self, base_url: str, *, api_key: str | None = None, **timeouts: float) -> None:
        super().__init__(base_url, **timeouts)
        self._api_key = api_key or None
        root = self.base_url.removesuffix("/v1")
        self._v1, self._root = root + "/v1", root
        self.sends_usage = True  # until the server refuses stream_options once
        self.sends_continue = True  # until the server refuses vLLM's continue fields once

    def __repr__(self) -> str:  # never the key
        return f"OpenAIClient({self.base_url!r}, has_key={self._api_key is not None})"

    def version(self, timeout: float | None = None) -> str:
        """These servers have no version call: listing the models proves they are up."""
        self._models_body(timeout)
        return ""

    def list_models(self, timeout: float | None = None) -> list[Model]:
        return [_model(entry) for entry in _entries(self._models_body(timeout))]

    def context_window(self, model: str, timeout: float | None = None) -> int | None:
        """vLLM's `max_model_len` in /v1/models, else llama.cpp's `n_ctx` in /props, else
        the length LM Studio loaded the model with (its /api/v0/models/MODEL)."""
        for entry in _entries(self._models_body(timeout)):
            if entry.get("id") == model and _positive(entry.get("max_model_len")):
                return entry["max_model_len"]
        return self._props_context(timeout) or self._lm_studio_context(model, timeout)

    def capabilities(self, model: str, timeout: float | None = None) -> list[str] | None:
        """The OpenAI API has no word for what a model can do: a server that can't see
        images answers a request with them by an error, which the reply shows."""
        return None

    def chat(
        self,
        model: str,
        messages: list[dict],
        options: dict | None = None,
        *,
        think: bool | None = None,
    ) -> str:
        """A whole reply at once (`stream: false`): its visible text. `think` has no OpenAI
        field; any thinking a server puts inline is stripped from the text."""
        url, payload = self._v1 + "/chat/completions", _payload(model, messages, options)
        body = self._get_json("POST", url, payload)
        choices = body.get("choices") or [{}]
        message = choices[0].get("message") or {}
        return strip_think(str(message.get("content") or ""))

    def chat_stream(
        self,
        model: str,
        messages: list[dict],
        options: dict | None = None,
        *,
        think: bool | None = None,
    ) -> ChatStream:
        """`think` has no OpenAI field: a reasoning model's thinking streams regardless."""
        payload = {**_payload(model, messages, options), "stream": True}
        abort = StreamAbort()
        return ChatStream(chat_batches(self._completion_reads(payload, abort), abort), abort)

    # Plumbing.
    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}

    def _http_error(self, response: requests.Response) -> EndpointError:
        text = response_text(response)
        try:
            message = error_message(json.loads(text))
        except ValueError:
            message = None
        message = message or text.strip()[:200] or f"HTTP {response.status_code}"
        return EndpointError(message, status=response.status_code)

    def _completion_reads(self, payload: dict, abort: StreamAbort) -> Iterator[bytes]:
        """The stream's reads. Asks for usage (and, to carry on a reply, for vLLM's
        continue fields); a server that refuses them is asked again with fewer, and is
        never sent those it refused again."""
        url = self._v1 + "/chat/completions"
        continues = payload["messages"][-1:] and payload["messages"][-1]["role"] == "assistant"
        usage = _USAGE_FIELDS if self.sends_usage else {}
        more = _CONTINUE_FIELDS if continues and self.sends_continue else {}
        # vLLM's fields are the rarer ones: left out first.
        tries = [{**usage, **more}, usage, more, {}]
        tries = [extra for i, extra in enumerate(tries) if extra not in tries[:i]]
        for extra in tries:
            reads = self._stream(url, {**payload, **extra}, abort, iter)
            try:
                first = next(reads, None)  # the request is made: accepted or refused
            except EndpointError as exc:
                if exc.status not in _REFUSED or extra is tries[-1]:
                    raise
                continue
            if extra is not tries[0]:  # refused before: leave out what this one left out
                self.sends_usage = "stream_options" in extra
                if more:
                    self.sends_continue = "continue_final_message" in extra
            if first is not None:
                yield first
                yield from reads
            return

    def _models_body(self, timeout: float | None) -> dict:
        return self._get_json("GET", self._v1 + "/models", timeout=timeout)

    def _props_context(self, timeout: float | None) -> int | None:
        props = self._optional_json(self._root + "/props", timeout)  # llama.cpp's
        settings = props.get("default_generation_settings") or {}
        return _first_positive(settings.get("n_ctx"), props.get("n_ctx"))

    def _lm_studio_context(self, model: str, timeout: float | None) -> int | None:
        url = f"{self._root}/api/v0/models/{quote(model, safe='')}"
        found = self._optional_json(url, timeout)
        # A model loaded with a shorter context than it was trained for runs with that.
        return _first_positive(found.get("loaded_context_length"), found.get("max_context_length"))

    def _optional_json(self, url: str, timeout: float | None) -> dict:
        """A call only some servers answer: their body, or {} from the others."""
        try:
            return self._get_json("GET", url, timeout=timeout)
        except (EndpointError, EndpointProtocolError):
            return {}


def _payload(model: str, messages: list[dict], options: dict | None) -> dict[str, Any]:
    payload: dict[str, Any] = {"model": model, "messages": [_message(m) for m in messages]}
    for name, value in (options or {}).items():
        field = _OPTION_FIELDS.get(name)
        if field and not (field == "max_tokens" and (type(value) is not int or value <= 0)):
            payload[field] = value
    return payload


def _message(message: dict) -> dict[str, Any]:
    """The OpenAI form of a stored message: role and text (Ollama's extra keys dropped);
    with images, content parts: the text, then each image as a data URL."""
    role, text = message.get("role", "user"), message.get("content", "")
    images = message.get("images")
    if not images:
        return {"role": role, "content": text}
    parts: list[dict[str, Any]] = [{"type": "text", "text": text}]
    for encoded in images:
        url = f"data:{base64_type(encoded) or 'image/png'};base64,{encoded}"
        parts.append({"type": "image_url", "image_url": {"url": url}})
    return {"role": role, "content": parts}


def _entries(body: dict) -> list[dict]:
    return [entry for entry in body.get("data") or [] if isinstance(entry, dict)]


def _positive(value: object) -> bool:
    return type(value) is int and value > 0


def _first_positive(*values: object) -> int | None:
    return next((v for v in values if _positive(v)), None)  # type: ignore[misc]


def _model(entry: dict) -> Model:
    created = entry.get("created")
    modified = ""
    if _positive(created):
        modified = datetime.fromtimestamp(created, UTC).isoformat().replace("+00:00", "Z")
    details = {k: entry[k] for k in ("owned_by", "max_model_len") if k in entry}
    return Model(name=str(entry.get("id") or ""), size=0, modified_at=modified, details=details)
