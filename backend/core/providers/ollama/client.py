"""A thin, typed client for Ollama's HTTP API: plain calls and NDJSON streams of events."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from backend.core.providers.abort import StreamAbort, sockets_to
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

if TYPE_CHECKING:
    import requests

# requests and urllib3 (~60 ms to import) load with the first request, in `providers/http.py`:
# the app is ready to serve before it has talked to Ollama. Their exceptions are imported
# where they are caught, which is after a request has loaded them.
_CHUNK = 65536  # bytes per read: urllib3 still hands over each HTTP chunk as it arrives


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
        split: Callable[[Iterator[bytes]], Iterator[Any]] = split_lines,
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
