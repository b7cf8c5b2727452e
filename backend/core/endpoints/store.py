"""The endpoints the user added, kept in `<data-dir>/endpoints.json` (user-only, 0600).

The file holds ids, names, kinds and URLs; never a key (see `keys.py`). The Ollama
endpoint of `--ollama-url` is not in it: it follows the settings. An unreadable file is
set aside as `endpoints.json.bad` and the list starts empty.
"""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import Any

from backend.core.endpoints.config import (
    OLLAMA_ID,
    Endpoint,
    check_base_url,
    check_kind,
    check_name,
    new_id,
)
from backend.core.errors import AppError, BadRequest, NotFound
from backend.core.private_file import set_aside, write_private

log = logging.getLogger("cloudtolocalllm.endpoints")

FILENAME = "endpoints.json"
EDITABLE = ("name", "kind", "base_url")


class EndpointStore:
    """The added endpoints, in the order they were added; safe from any thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._endpoints = _load(path)

    def list(self) -> list[Endpoint]:
        with self._lock:
            return list(self._endpoints.values())

    def get(self, endpoint_id: str) -> Endpoint:
        with self._lock:
            found = self._endpoints.get(endpoint_id)
        if found is None:
            raise NotFound(f"No endpoint {endpoint_id!r}")
        return found

    def add(self, fields: dict[str, Any]) -> Endpoint:
        endpoint = Endpoint(
            id=new_id(),
            name=check_name(fields.get("name")),
            kind=check_kind(fields.get("kind")),
            base_url=check_base_url(fields.get("base_url")),
        )
        with self._lock:
            self._save_locked({**self._endpoints, endpoint.id: endpoint})
        return endpoint

    def update(self, endpoint_id: str, changes: dict[str, Any]) -> Endpoint:
        unknown = set(changes) - set(EDITABLE) - {"api_key"}
        if unknown:
            raise BadRequest(f"Cannot change {', '.join(sorted(unknown))}", code="bad_endpoint")
        checks = {"name": check_name, "kind": check_kind, "base_url": check_base_url}
        checked = {k: checks[k](v) for k, v in changes.items() if k in checks}
        with self._lock:
            old = self._endpoints.get(endpoint_id)
            if old is None:
                raise NotFound(f"No endpoint {endpoint_id!r}")
            new = Endpoint(**{**old.to_dict(), **checked})
            self._save_locked({**self._endpoints, endpoint_id: new})
        return new

    def remove(self, endpoint_id: str) -> Endpoint:
        with self._lock:
            old = self._endpoints.get(endpoint_id)
            if old is None:
                raise NotFound(f"No endpoint {endpoint_id!r}")
            self._save_locked({k: v for k, v in self._endpoints.items() if k != endpoint_id})
        return old

    def _save_locked(self, endpoints: dict[str, Endpoint]) -> None:
        body = {"version": 1, "endpoints": [e.to_dict() for e in endpoints.values()]}
        try:
            write_private(self.path, json.dumps(body, indent=2, ensure_ascii=False) + "\n")
        except OSError as exc:
            log.error("cannot save endpoints to %s: %s", self.path, exc)
            # The client is told why, never where: no path leaves the machine's logs.
            reason = exc.strerror or type(exc).__name__
            message = f"Cannot save the endpoints: {reason}"
            raise AppError(message, code="endpoints_not_saved") from exc
        self._endpoints = endpoints


def _load(path: Path) -> dict[str, Endpoint]:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        entries = raw["endpoints"]
        if not isinstance(entries, list):
            raise ValueError("`endpoints` is not a list")
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        set_aside(path, exc, log, "starting with no added endpoints")
        return {}
    endpoints: dict[str, Endpoint] = {}
    for entry in entries:
        try:
            endpoint = _entry(entry)
        except (AppError, TypeError, KeyError) as exc:
            log.warning("skipped a bad endpoint in %s: %s", path, exc)
            continue
        endpoints[endpoint.id] = endpoint
    return endpoints


def _entry(entry: Any) -> Endpoint:
    endpoint_id = entry["id"]
    if not isinstance(endpoint_id, str) or not endpoint_id or endpoint_id == OLLAMA_ID:
        raise KeyError("id")
    return Endpoint(
        id=endpoint_id,
        name=check_name(entry["name"]),
        kind=check_kind(entry["kind"]),
        base_url=check_base_url(entry["base_url"]),
    )
