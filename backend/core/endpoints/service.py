"""The endpoints as the app uses them: definitions, keys, a client and a connection
monitor each, and one view of them all for the API.

The Ollama endpoint of `--ollama-url` (id `ollama`) is the app's own: its address comes
from the settings and its monitor is the app's main one, so this service only shows it.
Every other endpoint gets its own client and `ConnectionMonitor`, whose changes are
published as `endpoint.status` events carrying the endpoint's id.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from backend.core.endpoints.config import OLLAMA_ID, Endpoint, check_api_key
from backend.core.endpoints.keys import ApiKeys
from backend.core.endpoints.store import EndpointStore
from backend.core.errors import AppError, BadRequest
from backend.core.events import EventBus
from backend.core.monitor import ConnectionMonitor, MonitorConfig
from backend.core.providers.base import Provider
from backend.core.topics import ENDPOINT_CHANGED, ENDPOINT_STATUS

log = logging.getLogger("cloudtolocalllm.endpoints")


MakeClient = Callable[[Endpoint, str | None], Provider]
OllamaView = Callable[[], tuple[str, dict[str, Any]]]  # its base URL and STATUS now


class _EndpointBus:
    """What a monitor sees as its bus: its `status` events leave tagged with the id."""

    def __init__(self, bus: EventBus, endpoint_id: str) -> None:
        self._bus, self._id = bus, endpoint_id

    def publish(self, topic: str, payload: dict[str, Any]) -> None:
        self._bus.publish(ENDPOINT_STATUS, {"endpoint_id": self._id, **payload})


class _Watched:
    __slots__ = ("client", "monitor")

    def __init__(self, client: Provider, monitor: ConnectionMonitor) -> None:
        self.client, self.monitor = client, monitor


class EndpointService:
    """Add, change, remove endpoints; their clients and their STATUS; safe from any thread."""

    def __init__(
        self,
        store: EndpointStore,
        keys: ApiKeys,
        bus: EventBus,
        *,
        make_client: MakeClient,
        ollama: OllamaView,
        check_ollama: Callable[[], object] = lambda: None,
        monitor_config: Callable[[str], MonitorConfig],
        on_client: Callable[[str, Provider | None], None] = lambda _id, _client: None,
    ) -> None:
        self._store, self._keys, self._bus = store, keys, bus
        self._make_client = make_client
        self._ollama, self._check_ollama = ollama, check_ollama
        self._monitor_config = monitor_config
        self._on_client = on_client  # told of every client made or dropped (the registry)
        self._lock = threading.Lock()
        self._watched: dict[str, _Watched] = {}

    def start(self) -> None:
        """A client and a running monitor for every stored endpoint."""
        for endpoint in self._store.list():
            self._watch(endpoint)

    def stop(self) -> None:
        with self._lock:
            watched, self._watched = self._watched, {}
        for entry in watched.values():
            entry.monitor.stop()
            entry.client.close()

    def list(self) -> list[dict[str, Any]]:
        """Every endpoint as the API shows it, the Ollama one first."""
        return [self._ollama_view()] + [self._view(e) for e in self._store.list()]

    def get(self, endpoint_id: str) -> dict[str, Any]:
        if endpoint_id == OLLAMA_ID:
            return self._ollama_view()
        return self._view(self._store.get(endpoint_id))

    def summaries(self) -> list[dict[str, Any]]:
        """Every endpoint's id, name, base_url and STATUS, the Ollama one first. No key is
        looked up (a keyring may be slow, or ask to be unlocked): cheap enough to read on
        every status change (the tray does)."""
        base_url, status = self._ollama()
        rows = [{"id": OLLAMA_ID, "name": "Ollama", "base_url": base_url, "status": status}]
        with self._lock:
            monitors = {i: w.monitor for i, w in self._watched.items()}
        for e in self._store.list():
            monitor = monitors.get(e.id)
            status = monitor.status() if monitor else None
            rows.append({"id": e.id, "name": e.name, "base_url": e.base_url, "status": status})
        return rows

    def reachable_ids(self) -> list[str]:
        """The Ollama endpoint, and each added one whose monitor has not found it down."""
        down = ("disconnected", "reconnecting")
        with self._lock:
            watched = list(self._watched.items())
        return [OLLAMA_ID] + [i for i, w in watched if w.monitor.status()["state"] not in down]

    def client(self, endpoint_id: str) -> Provider:
        """The client of an added endpoint (the Ollama one is the app's own)."""
        self._store.get(endpoint_id)  # NotFound for an unknown id
        with self._lock:
            return self._watched[endpoint_id].client

    def add(self, fields: dict[str, Any]) -> dict[str, Any]:
        key = check_api_key(fields.get("api_key"))
        endpoint = self._store.add(fields)
        try:
            self._keys.set(endpoint.id, key)
        except AppError:
            self._store.remove(endpoint.id)  # an endpoint without the key it needs: none
            raise
        self._watch(endpoint)
        log.info("endpoint %s added: %s %s", endpoint.id, endpoint.kind, endpoint.base_url)
        self._bus.publish(ENDPOINT_CHANGED, {"endpoint_id": endpoint.id})
        return self._view(endpoint)

    def update(self, endpoint_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        if endpoint_id == OLLAMA_ID:
            raise BadRequest(
                "The Ollama endpoint follows --ollama-url and the Ollama address in Settings",
                code="endpoint_read_only",
            )
        key_given = "api_key" in changes
        key = check_api_key(changes.get("api_key"))
        endpoint = self._store.update(endpoint_id, changes)
        if key_given:
            self._keys.set(endpoint_id, key)
        self._watch(endpoint)  # a new client: the URL, kind or key may have changed
        self._bus.publish(ENDPOINT_CHANGED, {"endpoint_id": endpoint_id})
        return self._view(endpoint)

    def remove(self, endpoint_id: str) -> None:
        if endpoint_id == OLLAMA_ID:
            raise BadRequest("The Ollama endpoint cannot be removed", code="endpoint_read_only")
        self._store.remove(endpoint_id)
        self._keys.forget(endpoint_id)
        self._unwatch(endpoint_id)
        log.info("endpoint %s removed", endpoint_id)
        self._bus.publish(ENDPOINT_CHANGED, {"endpoint_id": endpoint_id})

    def reconnect(self, endpoint_id: str) -> dict[str, Any]:
        """Check the endpoint now ("Connect" in Settings) and return its view."""
        if endpoint_id == OLLAMA_ID:
            self._check_ollama()
            return self.get(endpoint_id)
        self._store.get(endpoint_id)
        with self._lock:
            monitor = self._watched[endpoint_id].monitor
        monitor.check_now()
        return self.get(endpoint_id)

    def request_check(self, endpoint_id: str) -> None:
        """Have an added endpoint's monitor check now, in its own thread; returns at once."""
        self._store.get(endpoint_id)  # NotFound for an unknown id
        with self._lock:
            monitor = self._watched[endpoint_id].monitor
        monitor.request_check()

    # Plumbing.
    def _watch(self, endpoint: Endpoint) -> None:
        """A fresh client for the endpoint and a monitor on it (the old ones replaced)."""
        client = self._make_client(endpoint, self._keys.get(endpoint.id))
        with self._lock:
            old = self._watched.get(endpoint.id)
            if old is None:
                bus = _EndpointBus(self._bus, endpoint.id)
                config = self._monitor_config(endpoint.base_url)
                monitor = ConnectionMonitor(client, bus, config, label=endpoint.name)
                self._watched[endpoint.id] = _Watched(client, monitor)
            else:
                old.client, monitor = client, old.monitor
        self._on_client(endpoint.id, client)
        if old is None:
            monitor.start()
        else:
            monitor.set_client(client)

    def _unwatch(self, endpoint_id: str) -> None:
        with self._lock:
            entry = self._watched.pop(endpoint_id, None)
        self._on_client(endpoint_id, None)
        if entry is not None:
            entry.monitor.stop()
            entry.client.close()

    def _view(self, endpoint: Endpoint) -> dict[str, Any]:
        with self._lock:
            entry = self._watched.get(endpoint.id)
        status = entry.monitor.status() if entry else None
        return {**endpoint.to_dict(), "has_key": self._keys.has(endpoint.id), "status": status}

    def _ollama_view(self) -> dict[str, Any]:
        base_url, status = self._ollama()
        return {
            "id": OLLAMA_ID,
            "name": "Ollama",
            "kind": "ollama",
            "base_url": base_url,
            "has_key": False,
            "status": status,
        }
