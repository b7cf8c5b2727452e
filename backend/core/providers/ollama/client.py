"""A thin, typed client for Ollama's HTTP API: plain calls and NDJSON streams of events."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Self

from backend.core.errors import AppError
from backend.core.json_text import loads
from backend.core.providers.abort import StreamAbort, sockets_to
from backend.core.providers.base import ChatDone, ChatEvent, ContentDelta, Model, ThinkingDelta
from backend.core.providers.ollama.types import (
    OllamaError,
    OllamaProtocolError,
    OllamaStreamError,
    OllamaUnavailable,
)

if TYPE_CHECKING:
    import requests

# requests and urllib3 (~60 ms to import) load with the first request, in `providers/http.py`:
# the app is ready to serve before it has talked to Ollama. Their exceptions are imported
# where they are caught, which is after a request has loaded them.
_CHUNK = 65536  # bytes per read: urllib3 still hands over each HTTP chunk as it arrives


def _line_batches(chunks: Iterator[bytes]) -> Iterator[list[bytes]]:
    """The complete, non-blank lines of each chunk read, as one list per read."""
    pending = b""
    for chunk in chunks:
        if b"\n" not in chunk:
            pending += chunk
            continue
        lines = (pending + chunk).split(b"\n")
        pending = lines.pop()
        batch = [line for line in lines if line.strip()]
        if batch:
            yield batch
    if pending.strip():
        yield [pending]


def _split_lines(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """The complete, non-blank lines, one at a time."""
    for batch in _line_batches(chunks):
        yield from batch


class _Stream:
    """An iterator over one streamed request; the request is made on the first next()."""

    def __init__(self, events: Iterator[Any], abort: StreamAbort) -> None:
        # The generator holds `abort`, not `self`: dropping the stream frees it at once,
        # and freeing it closes the HTTP response (Ollama then stops generating).
        self._events = events
        self._abort = abort

    def __iter__(self) -> Self:
        return self

    def __next__(self) -> Any:
        return next(self._events)

    @property
    def aborted(self) -> bool:
        return self._abort.aborted

    def close(self) -> None:
        """Close the HTTP response; from another thread this falls back to abort()."""
        try:
            self._events.close()
        except ValueError:  # "generator already executing": another thread is reading
            self.abort()

    def abort(self) -> None:
        """From any thread: shut the socket down so a blocked read returns at once; the
        reading thread then sees the stream simply end, and closes the response."""
        self._abort.abort()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ChatStream(_Stream):
    """ChatEvents, one per NDJSON line. A line with no text (a tool call) yields nothing.

    `batches()` hands out the same events one network read at a time: a fast stream brings
    dozens of lines per read, and a consumer with a cost per call (a lock, a clock, a
    store check) then pays it once per read instead of once per token.
    """

    def __init__(self, batches: Iterator[list[ChatEvent]], abort: StreamAbort) -> None:
        super().__init__(batches, abort)
        self._ready: list[ChatEvent] = []  # the current read's events not yet returned, reversed

    def __next__(self) -> ChatEvent:
        while not self._ready:
            self._ready = next(self._events)[::-1]
        return self._ready.pop()

    def batches(self) -> Iterator[list[ChatEvent]]:
        """Lists of events, one per network read, in order; never an empty list."""
        if self._ready:
            ready, self._ready = self._ready[::-1], []
            yield ready
        yield from self._events

    def close(self) -> None:
        self._ready = []
        super().close()


class PullStream(_Stream):
    """Progress dicts `{status, digest?, total?, completed?}`, one per NDJSON line."""

    def __next__(self) -> dict[str, Any]:
        return next(self._events)


class OllamaClient:
    """Ollama's HTTP API, with failures raised as the typed errors of `types.py`."""

    kind = "ollama"

    def __init__(
        self, base_url: str, *, connect_timeout: float = 3.0, read_timeout: float = 600.0
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.connect_timeout = connect_timeout
        # The longest silence allowed, so never shorter than a cold model load.
        self.read_timeout = read_timeout
        self._http: requests.Session | None = None  # made by the first request
        self._http_lock = threading.Lock()

    def version(self, timeout: float | None = None) -> str:
        return str(self._get_json("GET", "/api/version", timeout=timeout).get("version", ""))

    def list_models(self, timeout: float | None = None) -> list[Model]:
        body = self._get_json("GET", "/api/tags", timeout=timeout)
        return [_model(entry) for entry in body.get("models") or []]

    def show(self, model: str, timeout: float | None = None) -> dict:
        return self._get_json("POST", "/api/show", {"model": model}, timeout=timeout)

    def context_window(self, model: str, timeout: float | None = None) -> int | None:
        return context_length(self.show(model, timeout=timeout))

    def chat(self, model: str, messages: list[dict], options: dict | None = None) -> str:
        """A whole reply at once (`stream: false`): the message's content."""
        payload = _chat_payload(model, messages, options, None, stream=False)
        body = self._get_json("POST", "/api/chat", payload)
        if "error" in body:
            raise OllamaStreamError(str(body["error"]))
        return str((body.get("message") or {}).get("content", ""))

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
        batches = self._stream_lines("/api/chat", payload, abort, split=_line_batches)
        return ChatStream(_chat_batches(batches, abort), abort)

    def pull(self, name: str) -> PullStream:
        abort = StreamAbort()
        lines = self._stream_lines("/api/pull", {"model": name, "stream": True}, abort)
        return PullStream(_pull_events(lines, abort), abort)

    def delete(self, name: str) -> None:
        self._request("DELETE", "/api/delete", {"model": name}).close()

    def close(self) -> None:
        with self._http_lock:
            session, self._http = self._http, None
        if session is not None:
            session.close()

    # Plumbing.
    @property
    def _session(self) -> requests.Session:
        """One Session per client: its urllib3 pool is thread-safe and keeps connections
        alive between calls; Ollama sets no cookies, the Session's only shared state."""
        session = self._http
        if session is None:
            from backend.core.providers.http import new_session

            with self._http_lock:
                if self._http is None:
                    self._http = new_session()
                session = self._http
        return session

    def _request(
        self,
        method: str,
        path: str,
        payload: Any = None,
        *,
        timeout: float | None = None,
        **kw: Any,
    ) -> requests.Response:
        """One request; connection failures and HTTP errors become typed errors."""
        import requests

        limits = (timeout, timeout) if timeout else (self.connect_timeout, self.read_timeout)
        url = self.base_url + path
        try:
            response = self._session.request(method, url, json=payload, timeout=limits, **kw)
        except requests.RequestException as exc:
            raise self._unavailable(exc, limits) from exc
        if response.status_code >= 400:
            raise _http_error(response)
        return response

    def _get_json(self, method: str, path: str, payload: Any = None, **kw: Any) -> dict:
        import requests

        response = self._request(method, path, payload, **kw)
        try:
            body = response.json()
        except requests.RequestException as exc:
            raise self._unavailable(exc, (self.connect_timeout, self.read_timeout)) from exc
        except ValueError as exc:
            raise OllamaProtocolError(f"Ollama sent a body that is not JSON for {path}") from exc
        if not isinstance(body, dict):
            raise OllamaProtocolError(f"Ollama sent an unexpected body for {path}")
        return body

    def _unavailable(self, exc: Exception, limits: tuple) -> OllamaUnavailable:
        import requests
        from urllib3.exceptions import NewConnectionError, ReadTimeoutError

        url, cause = self.base_url, _cause(exc)
        if isinstance(exc, requests.ConnectTimeout):
            return OllamaUnavailable(f"Ollama at {url} did not answer within {limits[0]:g} s")
        if isinstance(exc, requests.ReadTimeout) or isinstance(cause, ReadTimeoutError):
            return OllamaUnavailable(f"Ollama at {url} sent nothing for {limits[1]:g} s")
        if isinstance(cause, NewConnectionError):  # refused, unreachable, unknown host
            return OllamaUnavailable(f"Ollama isn't running at {url}")
        return OllamaUnavailable(f"The connection to Ollama at {url} was lost")

    def _stream_lines(
        self,
        path: str,
        payload: dict,
        abort: StreamAbort,
        split: Callable[[Iterator[bytes]], Iterator[Any]] = _split_lines,
    ) -> Iterator[Any]:
        """The NDJSON lines of a streamed answer (as `split` groups them), opened lazily on
        the first next()."""
        import requests

        if abort.aborted:
            return
        try:
            # "Connection: close": the socket stays ours alone, so a late abort() can never
            # shut down a pooled connection that another request has picked up.
            with sockets_to(abort):
                response = self._request(
                    "POST", path, payload, stream=True, headers={"Connection": "close"}
                )
        except OllamaUnavailable:
            if abort.aborted:
                return
            raise
        try:
            yield from split(response.iter_content(_CHUNK))
        except requests.RequestException as exc:
            if not abort.aborted:
                raise self._unavailable(exc, (self.connect_timeout, self.read_timeout)) from exc
        finally:
            abort.detach()
            response.close()


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


def _malformed(line: bytes) -> OllamaProtocolError:
    # The line may hold model output: say what is wrong with it, never what it says.
    return OllamaProtocolError(
        f"Ollama sent a broken line ({len(line)} bytes that are not a JSON object); "
        "the reply was cut short"
    )


def _decode(line: bytes) -> dict:
    try:
        obj = loads(line)
    except ValueError as exc:
        raise _malformed(line) from exc
    if type(obj) is not dict:
        raise _malformed(line)
    return obj


def _chat_batches(batches: Iterator[list[bytes]], abort: StreamAbort) -> Iterator[list[ChatEvent]]:
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
                    obj = loads(line)
                except ValueError as exc:
                    failure = _malformed(line)
                    failure.__cause__ = exc
                    break
                if type(obj) is not dict:
                    failure = _malformed(line)
                    break
                if "error" in obj:
                    failure = OllamaStreamError(str(obj["error"]))
                    break
                message = obj.get("message")
                if message:
                    if thinking := message.get("thinking"):
                        events.append(ThinkingDelta(thinking))
                    if content := message.get("content"):
                        events.append(ContentDelta(content))
                if obj.get("done"):
                    events.append(_chat_done(obj))
                    yield events
                    return
            if events:
                yield events
            if failure is not None:
                raise failure
        if not abort.aborted:
            raise OllamaProtocolError("Ollama's reply ended without its final (done) line")
    finally:
        batches.close()  # type: ignore[attr-defined]


def _pull_events(lines: Iterator[bytes], abort: StreamAbort) -> Iterator[dict[str, Any]]:
    try:
        for line in lines:
            obj = _decode(line)
            if "error" in obj:
                raise OllamaStreamError(str(obj["error"]))
            yield obj
            if obj.get("status") == "success":
                return
        if not abort.aborted:
            raise OllamaProtocolError("Ollama's pull ended without success")
    finally:
        lines.close()  # type: ignore[attr-defined]


def _chat_done(obj: dict) -> ChatDone:
    def count(key: str) -> int:
        value = obj.get(key)
        return value if type(value) is int else 0

    return ChatDone(
        done_reason=str(obj.get("done_reason") or "stop"),
        eval_count=count("eval_count"),
        prompt_eval_count=count("prompt_eval_count"),
        total_duration=count("total_duration"),
        load_duration=count("load_duration"),
        prompt_eval_duration=count("prompt_eval_duration"),
        eval_duration=count("eval_duration"),
    )


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
    import requests

    try:
        text = response.text
    except requests.RequestException:
        text = ""
    finally:
        response.close()
    try:
        message = json.loads(text).get("error")
    except (ValueError, AttributeError):
        message = None
    message = message or text.strip()[:200] or f"HTTP {response.status_code}"
    return OllamaError(str(message), status=response.status_code)


def _cause(exc: Exception) -> object:
    """The urllib3 error inside a requests error (MaxRetryError keeps it in `reason`)."""
    inner = exc.args[0] if exc.args else exc
    return getattr(inner, "reason", None) or inner
