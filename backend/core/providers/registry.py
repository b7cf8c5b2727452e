"""The providers the app talks to, by endpoint id: one place that says which is current.

Replies resolve their provider by endpoint id when they start, so pointing an endpoint
at another server (the settings' Ollama address) affects new replies only; a reply
already streaming keeps its own connection. "ollama" is the default; the endpoints the
user adds (`backend/core/endpoints/`) come and go.
"""

from __future__ import annotations

import threading

from backend.core.errors import NotFound
from backend.core.providers.base import Provider

DEFAULT_ENDPOINT = "ollama"


class Endpoints:
    """The current provider of each endpoint; `current()` is the default endpoint's."""

    def __init__(self, provider: Provider, *, default: str = DEFAULT_ENDPOINT) -> None:
        self._lock = threading.Lock()
        self._providers: dict[str, Provider] = {default: provider}
        self.default = default

    def current(self) -> Provider:
        return self.get(self.default)

    def get(self, endpoint_id: str) -> Provider:
        with self._lock:
            provider = self._providers.get(endpoint_id)
        if provider is None:
            raise NotFound(f"No endpoint {endpoint_id!r}", code="endpoint_not_found")
        return provider

    def resolve(self, asked: str | None, remembered: str | None) -> str:
        """The endpoint a reply goes to: the one asked for (NotFound if there is none such),
        else the one remembered (a conversation's) while it exists, else the default."""
        if asked is not None:
            self.get(asked)
            return asked
        with self._lock:
            known = remembered in self._providers
        return remembered if remembered and known else self.default

    def set(self, endpoint_id: str, provider: Provider) -> Provider | None:
        """Point `endpoint_id` at `provider`; returns the provider it replaced, if any."""
        with self._lock:
            old = self._providers.get(endpoint_id)
            self._providers[endpoint_id] = provider
        return old

    def remove(self, endpoint_id: str) -> Provider | None:
        """Forget `endpoint_id` (never the default); returns its provider, if any."""
        if endpoint_id == self.default:
            raise ValueError("the default endpoint cannot be removed")
        with self._lock:
            return self._providers.pop(endpoint_id, None)

    def ids(self) -> list[str]:
        with self._lock:
            return list(self._providers)
