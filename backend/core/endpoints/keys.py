"""Endpoint API keys: in the operating system's keyring where one works, else in a
user-only (0600) file beside the database. Never in settings.json, the endpoints file,
a log line, an export or an API answer: callers get `has()` and, for a request, `get()`.
"""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import Any

from backend.core.errors import AppError
from backend.core.private_file import write_private

log = logging.getLogger("cloudtolocalllm.endpoints")

SERVICE = "CloudToLocalLLM"
FILENAME = "endpoint-keys.json"


def os_keyring() -> Any | None:
    """The keyring backend that would hold secrets, or None when the system has none
    (keyring then picks its `fail` or `null` backend, which stores nothing)."""
    import keyring
    from keyring.backends import fail, null

    backend = keyring.get_keyring()
    if isinstance(backend, fail.Keyring | null.Keyring):
        return None
    return backend


DETECT = object()  # ApiKeys' default backend: the system's, looked up on first use


class ApiKeys:
    """The key of each endpoint id; `backend` is a keyring backend, None for the file, or
    DETECT (keyring loads its backends, which takes a while, when a key is first needed)."""

    def __init__(self, fallback: Path, backend: Any = DETECT) -> None:
        self._fallback = fallback
        self._chosen = backend
        self._lock = threading.Lock()

    @property
    def where(self) -> str:
        return "keyring" if self._backend is not None else "file"

    @property
    def _backend(self) -> Any | None:
        if self._chosen is DETECT:
            with self._lock:
                if self._chosen is DETECT:
                    self._chosen = os_keyring()
        return self._chosen

    def get(self, endpoint_id: str) -> str | None:
        if self._backend is not None:
            try:
                key = self._backend.get_password(SERVICE, _user(endpoint_id))
            except _keyring_errors() as exc:
                log.warning("the keyring could not be read (%s); trying the key file", _name(exc))
            else:
                if key:
                    return key
        with self._lock:
            return self._read_file().get(endpoint_id)

    def has(self, endpoint_id: str) -> bool:
        return self.get(endpoint_id) is not None

    def set(self, endpoint_id: str, key: str | None) -> None:
        """Keep `key` for the endpoint; None forgets it."""
        if key is None:
            return self.forget(endpoint_id)
        if self._backend is not None:
            try:
                self._backend.set_password(SERVICE, _user(endpoint_id), key)
                return self._drop_from_file(endpoint_id)
            except _keyring_errors() as exc:
                log.warning("the keyring refused a key (%s); using the key file", _name(exc))
        with self._lock:
            self._write_file({**self._read_file(), endpoint_id: key})

    def forget(self, endpoint_id: str) -> None:
        if self._backend is not None:
            from keyring.errors import PasswordDeleteError

            try:
                self._backend.delete_password(SERVICE, _user(endpoint_id))
            except PasswordDeleteError:
                pass  # there was none
            except _keyring_errors() as exc:
                log.warning("the keyring could not delete a key (%s)", _name(exc))
        self._drop_from_file(endpoint_id)

    def _drop_from_file(self, endpoint_id: str) -> None:
        with self._lock:
            keys = self._read_file()
            if endpoint_id in keys:
                del keys[endpoint_id]
                self._write_file(keys)

    def _read_file(self) -> dict[str, str]:
        try:
            stored = json.loads(self._fallback.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            # The message names the file and the problem, never its content.
            log.warning("%s is unreadable (%s); its keys are ignored", self._fallback, _name(exc))
            return {}
        if not isinstance(stored, dict):
            return {}
        return {k: v for k, v in stored.items() if isinstance(v, str) and v}

    def _write_file(self, keys: dict[str, str]) -> None:
        try:
            write_private(self._fallback, json.dumps(keys, indent=2) + "\n")
        except OSError as exc:
            log.error("cannot save endpoint keys to %s: %s", self._fallback, _name(exc))
            reason = exc.strerror or type(exc).__name__  # why, never where (no path)
            raise AppError(f"Cannot save the key: {reason}", code="key_not_saved") from exc


def _user(endpoint_id: str) -> str:
    return f"endpoint:{endpoint_id}"


def _keyring_errors() -> tuple[type[Exception], ...]:
    from keyring.errors import KeyringError

    # D-Bus backends raise their own errors besides KeyringError when the service fails.
    return (KeyringError, OSError, RuntimeError)


def _name(exc: Exception) -> str:
    return type(exc).__name__  # an error's text might quote what it was handed
