"""What every HTTP provider shares: one lazy Session, typed failures, abortable streams.

requests and urllib3 (~60 ms to import) load with the first request, in `http.py`: the
app is ready to serve before it has talked to a model server. Their exceptions are
imported where they are caught, which is after a request has loaded them.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from backend.core.providers.abort import StreamAbort, sockets_to
from backend.core.providers.errors import (
    ProviderHTTPError,
    ProviderProtocolError,
    ProviderUnavailable,
)

if TYPE_CHECKING:
    import requests

CHUNK = 65536  # bytes per read: urllib3 still hands over each HTTP chunk as it arrives


class HTTPClient(ABC):
    """A model server's HTTP API; subclasses name the server and build its errors."""

    server = "the server"  # how messages name it ("Ollama")
    unavailable: type[ProviderUnavailable] = ProviderUnavailable
    protocol_error: type[ProviderProtocolError] = ProviderProtocolError

    def __init__(
        self, base_url: str, *, connect_timeout: float = 3.0, read_timeout: float = 600.0
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.connect_timeout = connect_timeout
        # The longest silence allowed, so never shorter than a cold model load.
        self.read_timeout = read_timeout
        self._http: requests.Session | None = None  # made by the first request
        self._http_lock = threading.Lock()

    def close(self) -> None:
        with self._http_lock:
            session, self._http = self._http, None
        if session is not None:
            session.close()

    @abstractmethod
    def _http_error(self, response: requests.Response) -> ProviderHTTPError:
        """The typed error for an HTTP error answer (each provider reads its own body)."""

    def _headers(self) -> dict[str, str]:
        """Headers for every request (an API key); none by default."""
        return {}

    @property
    def _session(self) -> requests.Session:
        """One Session per client: its urllib3 pool is thread-safe and keeps connections
        alive between calls; model servers set no cookies, the Session's only shared state."""
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
        url: str,
        payload: Any = None,
        *,
        timeout: float | None = None,
        headers: dict[str, str] | None = None,
        **kw: Any,
    ) -> requests.Response:
        """One request to a full URL; connection failures and HTTP errors become typed."""
        import requests

        limits = (timeout, timeout) if timeout else (self.connect_timeout, self.read_timeout)
        headers = {**self._headers(), **(headers or {})}
        try:
            response = self._session.request(
                method, url, json=payload, timeout=limits, headers=headers, **kw
            )
        except requests.RequestException as exc:
            raise self._unavailable(exc, limits) from exc
        if response.status_code >= 400:
            raise self._http_error(response)
        return response

    def _get_json(self, method: str, url: str, payload: Any = None, **kw: Any) -> dict:
        import requests

        response = self._request(method, url, payload, **kw)
        try:
            body = response.json()
        except requests.RequestException as exc:
            raise self._unavailable(exc, (self.connect_timeout, self.read_timeout)) from exc
        except ValueError as exc:
            raise self.protocol_error(f"{self._name()} sent a body that is not JSON") from exc
        if not isinstance(body, dict):
            raise self.protocol_error(f"{self._name()} sent an unexpected body")
        return body

    def _name(self) -> str:
        return self.server[:1].upper() + self.server[1:]

    def _unavailable(self, exc: Exception, limits: tuple) -> ProviderUnavailable:
        import requests
        from urllib3.exceptions import NewConnectionError, ReadTimeoutError

        url, cause, name = self.base_url, _cause(exc), self._name()
        if isinstance(exc, requests.ConnectTimeout):
            return self.unavailable(f"{name} at {url} did not answer within {limits[0]:g} s")
        if isinstance(exc, requests.ReadTimeout) or isinstance(cause, ReadTimeoutError):
            return self.unavailable(f"{name} at {url} sent nothing for {limits[1]:g} s")
        if isinstance(cause, NewConnectionError):  # refused, unreachable, unknown host
            return self.unavailable(f"{name} isn't running at {url}")
        return self.unavailable(f"The connection to {self.server} at {url} was lost")

    def _stream(
        self,
        url: str,
        payload: dict,
        abort: StreamAbort,
        split: Callable[[Iterator[bytes]], Iterator[Any]],
    ) -> Iterator[Any]:
        """A streamed answer's reads (as `split` groups them), opened on the first next()."""
        import requests

        if abort.aborted:
            return
        try:
            # "Connection: close": the socket stays ours alone, so a late abort() can never
            # shut down a pooled connection that another request has picked up.
            with sockets_to(abort):
                response = self._request(
                    "POST", url, payload, stream=True, headers={"Connection": "close"}
                )
        except ProviderUnavailable:
            if abort.aborted:
                return
            raise
        try:
            yield from split(response.iter_content(CHUNK))
        except requests.RequestException as exc:
            if not abort.aborted:
                raise self._unavailable(exc, (self.connect_timeout, self.read_timeout)) from exc
        finally:
            abort.detach()
            response.close()


def response_text(response: requests.Response) -> str:
    """An error answer's body as text ("" if it cannot be read); closes the response."""
    import requests

    try:
        return response.text
    except requests.RequestException:
        return ""
    finally:
        response.close()


def _cause(exc: Exception) -> object:
    """The urllib3 error inside a requests error (MaxRetryError keeps it in `reason`)."""
    inner = exc.args[0] if exc.args else exc
    return getattr(inner, "reason", None) or inner
