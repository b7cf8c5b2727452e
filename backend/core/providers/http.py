"""The providers' HTTP transport: requests and urllib3, loaded with the first request.

The connection classes hand each new socket to the stream being opened on this thread,
so that another thread can shut a blocked read down (see `abort.py`).
"""

from __future__ import annotations

from typing import Any

import requests
import urllib3

from backend.core.providers.abort import attach_current


class _HookedHTTPConnection(urllib3.connection.HTTPConnection):
    """Hands its socket to the stream being opened on this thread (see `abort.py`)."""

    def connect(self) -> None:
        super().connect()
        attach_current(self.sock)

    def request(self, *args: Any, **kwargs: Any) -> None:
        attach_current(self.sock)  # a reused keep-alive connection never calls connect()
        super().request(*args, **kwargs)


class _HookedHTTPSConnection(urllib3.connection.HTTPSConnection):
    connect = _HookedHTTPConnection.connect
    request = _HookedHTTPConnection.request


class _HTTPPool(urllib3.HTTPConnectionPool):
    ConnectionCls = _HookedHTTPConnection


class _HTTPSPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = _HookedHTTPSConnection


class _Adapter(requests.adapters.HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}


def new_session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # a system proxy must not sit between us and the model server
    adapter = _Adapter(pool_connections=2, pool_maxsize=32)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
