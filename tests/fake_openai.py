"""A real loopback HTTP server that speaks the OpenAI-compatible API, with quirk and fault
switches.

Its stream is byte for byte the shape of ollama-wire/openai_stream.sse (compact JSON as
Go writes it, `created` pinned, `delta.role` only in the first chunk, an empty-delta
finish chunk, the usage chunk with `choices: []`, `data: [DONE]`), sent with chunked
transfer encoding. Quirks copy the servers people run: reasoning as `reasoning` (vLLM),
`reasoning_content` (older servers) or `<think>` tags in the content (llama.cpp builds);
no `stream_options` support; keep-alive comments; events split across reads or over
several `data:` lines; CRLF line ends; tool-call deltas; llama.cpp's `timings`; vLLM's
`max_model_len`; llama.cpp's `/props`; a final assistant message carried on as llama.cpp
and LM Studio do, only with vLLM's `continue_final_message` (`prefill = "vllm"`), or
never (OpenAI's own API, which refuses fields it does not know: `strict_fields`).
Switches are plain attributes read when a request arrives; `reset()` puts them back and
clears the records.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any
from urllib.parse import unquote

from tests.fake_ollama import LoopbackFake, _client_gone, go_json, wait_or_gone
from tests.fake_ollama import _Handler as OllamaHandler
from tests.prefill import assistant_prefix, tokens_after

# The content tokens of openai_stream.sse.
DEFAULT_TOKENS = [
    "The", " sky", " is", " blue", " because", " air", " molecules", " scatter", " short",
    " blue", " wavelengths", " of", " sunlight", " more", " than", " red", " ones", " (",
    "Ray", "leigh", " scattering", ").",
]  # fmt: skip
DEFAULT_MODELS = ["llama3.2", "qwen3:8b"]
STREAM_ERROR = "The model crashed while generating"
REASONING_STYLES = ("reasoning", "reasoning_content", "think_tags")
PREFILL_STYLES = ("always", "vllm", "never")
# vLLM's chat-template fields: carry on the final assistant message instead of a new turn.
VLLM_FIELDS = ("continue_final_message", "add_generation_prompt")


class FakeOpenAI(LoopbackFake):
    """An OpenAI-compatible server on a loopback port; see the module docstring."""

    name = "fake-openai"

    def reset(self) -> None:
        """All switches back to their defaults; the records are cleared too."""
        self.models: list[str] = list(DEFAULT_MODELS)
        self.tokens: list[str] = list(DEFAULT_TOKENS)
        self.thinking: list[str] = []
        self.reasoning_style = "reasoning"  # one of REASONING_STYLES
        self.api_key: str | None = None  # when set, requests need `Bearer <key>`
        self.usage_support = True  # False: stream_options is refused with a 400
        self.keepalives = False  # a `: keep-alive` comment before every event
        self.split_events = False  # every event sent in 3-byte HTTP chunks
        self.multiline_data = False  # every event's JSON over several `data:` lines
        self.crlf = False
        self.tool_call = False  # a tool-call delta before the content
        self.timings = False  # llama.cpp's `timings` in the finish chunk
        self.max_model_len: int | None = None  # vLLM's field in /v1/models
        self.props_n_ctx: int | None = None  # llama.cpp's /props
        self.loaded_context: int | None = None  # LM Studio's /api/v0/models/MODEL
        self.omit_done = False  # no `data: [DONE]` (the finish and usage still come)
        self.token_delay = 0.0
        self.batch = 1  # events per HTTP chunk (a fast server's reads hold many)
        self.first_token_delay = 0.0
        self.error_after: int | None = None  # a `{"error": ...}` event after N tokens
        self.cut_after: int | None = None  # the socket cut after N tokens
        self.http_error: tuple[int, str] | None = None
        self.raw_stream: bytes | None = None  # sent as the whole stream body instead
        self.prefill = "always"  # one of PREFILL_STYLES: when a final assistant turn goes on
        self.strict_fields = False  # unknown request fields (vLLM's) refused with a 400
        self.vision = True  # False: a request with image parts is refused as llama.cpp does
        super().reset()

    @property
    def chat_requests(self) -> list[dict]:
        return [r["json"] for r in self.requests if r["path"] == "/v1/chat/completions"]

    def record(self, method: str, path: str, body: Any, headers: dict[str, str]) -> None:
        with self._lock:
            self.requests.append({"method": method, "path": path, "json": body, "headers": headers})


class _Reply:
    """One chat request's stream, fixed from the switches when the request arrives."""

    def __init__(self, fake: FakeOpenAI, body: dict) -> None:
        self.model = str(body["model"])
        self.created = int(time.time())
        self.fake = fake
        self.with_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        self.tokens = list(fake.tokens)
        self.thinking = list(fake.thinking)
        prefix = assistant_prefix(body.get("messages"))
        if prefix is not None and _carries_on(fake.prefill, body):
            self.tokens, self.thinking = tokens_after(self.tokens, prefix), []

    def chunk(self, delta: dict, finish: str | None = None) -> dict:
        choice = {"index": 0, "delta": delta, "finish_reason": finish}
        return self._envelope(choices=[choice])

    def _envelope(self, **fields: Any) -> dict:
        head = {"id": "chatcmpl-412", "object": "chat.completion.chunk", "created": self.created}
        return {**head, "model": self.model, "system_fingerprint": "fp_ollama", **fields}

    def token_deltas(self) -> list[dict]:
        """The deltas that carry text (thinking first), with the role on the first."""
        style = self.fake.reasoning_style
        if style == "think_tags" and self.thinking:
            tagged = ["<think>", *self.thinking, "</think>", "\n\n", *self.tokens]
            deltas = [{"content": text} for text in tagged]
        else:
            deltas = [{style: text} for text in self.thinking]
            deltas += [{"content": text} for text in self.tokens]
        if self.fake.tool_call:
            call = {"index": 0, "id": "call_a1b2c3d4", "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":'}}  # fmt: skip
            deltas.insert(0, {"tool_calls": [call]})
        if deltas:
            deltas[0] = {"role": "assistant", **deltas[0]}
        return deltas

    def ending(self) -> list[dict]:
        """The finish chunk, then the usage chunk when it was asked for."""
        finish = self.chunk({}, "stop")
        if self.fake.timings:
            finish["timings"] = {"prompt_n": 31, "prompt_ms": 62.0, "predicted_n": 22,
                                 "predicted_ms": 250.0, "predicted_per_second": 88.0}  # fmt: skip
        out = [finish]
        if self.with_usage:
            count = len(self.tokens) + len(self.thinking)
            usage = {"prompt_tokens": 31, "completion_tokens": count, "total_tokens": 31 + count}
            out.append(self._envelope(choices=[], usage=usage))
        return out


def _event(fake: FakeOpenAI, obj: dict | str) -> bytes:
    """One SSE event as the switches shape it."""
    data = obj if isinstance(obj, str) else go_json(obj).decode()
    if fake.multiline_data and len(data) > 20:
        cut = data.index(",") + 1  # JSON allows the line break there
        lines = [data[:cut], data[cut:]]
    else:
        lines = [data]
    text = "".join(f"data: {line}\n" for line in lines) + "\n"
    if fake.keepalives:
        text = ": keep-alive\n\n" + text
    if fake.crlf:
        text = text.replace("\n", "\r\n")
    return text.encode()


def _stream(h: _Handler, reply: _Reply) -> None:
    fake = reply.fake
    h.start_stream()
    if fake.raw_stream is not None:
        h.write(fake.raw_stream, last=True)
        return None
    if reply.fake.first_token_delay and not wait_or_gone(h.connection, fake.first_token_delay):
        return h.aborted()
    # Encoded before the first is sent, so that a fast reader measures itself, not the fake.
    encoded = [_event(fake, reply.chunk(delta)) for delta in reply.token_deltas()]
    pending: list[bytes] = []  # events not written yet: `batch` go in one HTTP chunk
    for sent, event in enumerate(encoded):
        if fake.error_after is not None and sent >= fake.error_after:
            body = {"error": {"message": STREAM_ERROR, "type": "server_error", "code": 500}}
            h.write(b"".join(pending) + _event(fake, body))
            return h.cut([])  # nothing more, then no terminating chunk
        if fake.cut_after is not None and sent >= fake.cut_after:
            h.write(b"".join(pending))
            return h.cut([])
        if fake.token_delay and sent and not wait_or_gone(h.connection, fake.token_delay):
            return h.aborted()
        pending.append(event)
        if len(pending) >= fake.batch:
            if not h.write(b"".join(pending)):
                return None
            pending.clear()
    ending = b"".join(pending + [_event(fake, obj) for obj in reply.ending()])
    if not fake.omit_done:
        ending += _event(fake, "[DONE]")
    h.write(ending, last=True)


def _whole(h: _Handler, reply: _Reply) -> None:
    text = "".join(reply.tokens)
    if reply.thinking:
        text = "<think>" + "".join(reply.thinking) + "</think>\n\n" + text
    message = {"role": "assistant", "content": text}
    choice = {"index": 0, "message": message, "finish_reason": "stop"}
    h.send_json(200, {**reply._envelope(choices=[choice]), "object": "chat.completion"})


def _refusal(fake: FakeOpenAI, body: Any) -> tuple[int, dict] | None:
    """The error answer a chat request gets before any streaming, if any."""
    if fake.http_error is not None:
        return fake.http_error[0], _error(fake.http_error[1], None)
    if not isinstance(body, dict) or not isinstance(body.get("model"), str):
        return 400, _error("'model' is a required property", None)
    if body["model"] not in fake.models:
        return 404, _error(f"The model `{body['model']}` does not exist.", "model_not_found")
    if not fake.usage_support and "stream_options" in body:
        return 400, _error("stream_options: Extra inputs are not permitted", None)
    unknown = [name for name in VLLM_FIELDS if name in body]
    if fake.strict_fields and unknown:
        return 400, _error(f"Unrecognized request argument supplied: {unknown[0]}", None)
    if body.get("continue_final_message") and body.get("add_generation_prompt", True):
        # vLLM's own check: a new turn's prompt and a carried-on one exclude each other.
        message = "Cannot set both `continue_final_message` and `add_generation_prompt` to True."
        return 400, _error(message, None)
    return _content_refusal(fake, body.get("messages"))


def _carries_on(style: str, body: dict) -> bool:
    """Whether this server writes on from a final assistant message (else a new turn)."""
    if style == "vllm":
        return body.get("continue_final_message") is True
    return style == "always"


def _content_refusal(fake: FakeOpenAI, messages: Any) -> tuple[int, dict] | None:
    """Content is a string or a list of parts: `text`, or `image_url` with a base64 data URL."""
    images = 0
    for message in messages if isinstance(messages, list) else []:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, str):
            continue
        for part in content if isinstance(content, list) else [None]:
            if _text_part(part):
                continue
            if not _image_part(part):
                return 400, _error(f"Invalid content part: {str(part)[:80]}", None)
            images += 1
    if images and not fake.vision:
        message = "image input is not supported - hint: you may need to provide the mmproj"
        return 500, _error(message, None)
    return None


def _text_part(part: Any) -> bool:
    return (
        isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str)
    )


def _image_part(part: Any) -> bool:
    if not isinstance(part, dict) or part.get("type") != "image_url":
        return False
    url = (part.get("image_url") or {}).get("url")
    head, _, data = url.partition(",") if isinstance(url, str) else ("", "", "")
    if not (head.startswith("data:image/") and head.endswith(";base64")):
        return False
    try:
        base64.b64decode(data, validate=True)
    except ValueError:
        return False
    return True


def _error(message: str, code: str | None) -> dict:
    return {"error": {"message": message, "type": "invalid_request_error", "code": code}}


def _chat(h: _Handler, fake: FakeOpenAI, body: Any) -> None:
    refusal = _refusal(fake, body)
    if refusal is not None:
        return h.send_json(*refusal)
    reply = _Reply(fake, body)
    return _stream(h, reply) if body.get("stream") else _whole(h, reply)


def _models(fake: FakeOpenAI) -> dict:
    data = []
    for name in fake.models:
        entry: dict[str, Any] = {"id": name, "object": "model", "created": 1762178533}
        entry["owned_by"] = "library"
        if fake.max_model_len is not None:
            entry["max_model_len"] = fake.max_model_len
        data.append(entry)
    return {"object": "list", "data": data}


class _Handler(OllamaHandler):
    """The fake Ollama's handler (quiet, HTTP/1.1) with OpenAI's routes and SSE."""

    def _dispatch(self) -> None:
        fake: FakeOpenAI = self.server.fake  # type: ignore[assignment]
        path = self.path.split("?", 1)[0]
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        headers = {k.lower(): v for k, v in self.headers.items()}
        fake.record(self.command, path, body, headers)
        try:
            self._route(fake, path, body, headers)
        except OSError:
            self.close_connection = True  # the client went away mid-answer

    def _route(  # type: ignore[override]
        self, fake: FakeOpenAI, path: str, body: Any, headers: dict[str, str]
    ) -> None:
        if fake.api_key is not None and headers.get("authorization") != f"Bearer {fake.api_key}":
            return self.send_json(401, _error("Invalid API Key", "invalid_api_key"))
        if self.command == "GET" and path == "/v1/models":
            return self.send_json(200, _models(fake))
        if self.command == "GET" and path == "/props" and fake.props_n_ctx is not None:
            settings = {"n_ctx": fake.props_n_ctx, "temperature": 0.8}
            return self.send_json(200, {"default_generation_settings": settings})
        if self.command == "GET" and path.startswith("/api/v0/models/") and fake.loaded_context:
            model = unquote(path.removeprefix("/api/v0/models/"))
            lengths = {"loaded_context_length": fake.loaded_context, "max_context_length": 32768}
            return self.send_json(200, {"id": model, "state": "loaded", **lengths})
        if self.command == "POST" and path == "/v1/chat/completions":
            return _chat(self, fake, body)
        return self.send_json(404, {"error": {"message": "File Not Found", "code": 404}})

    do_GET = do_HEAD = do_POST = do_DELETE = _dispatch

    def send_json(self, status: int, obj: Any) -> None:
        body = go_json(obj)
        self.send_response_only(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def start_stream(self) -> None:
        self.send_response_only(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def write(self, data: bytes, *, last: bool = False) -> bool:
        """Send `data` as one HTTP chunk (3-byte chunks when events are split), and the
        terminating chunk with the last; False if the client has gone."""
        size = 3 if self.server.fake.split_events else len(data) or 1  # type: ignore[attr-defined]
        pieces = [data[i : i + size] for i in range(0, len(data), size)]
        try:
            for piece in pieces:
                if _client_gone(self.connection):
                    raise BrokenPipeError
                self.wfile.write(b"%x\r\n%b\r\n" % (len(piece), piece))
            if last:
                self.wfile.write(b"0\r\n\r\n")
        except OSError:
            self.aborted()
            return False
        return True


FakeOpenAI.handler = _Handler  # defined after the class, which the handler refers to
