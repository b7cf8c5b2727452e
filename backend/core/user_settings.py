"""The user's preferences, changed from the UI and kept in `<data-dir>/settings.json`.

`ollama_url` decides where the app talks to Ollama, except that an address given at launch
(`--ollama-url` or `OLLAMA_HOST`) wins for that run, until the user saves a URL during it.
The other fields are the UI's (`theme`, `send_on_enter`, `font_size`) or the chat
service's (`default_model`, used when a message names no model and its conversation has
none). The file is replaced atomically; an unreadable one is set aside as
`settings.json.bad` and the defaults are used.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from backend.core.errors import AppError, BadRequest
from backend.core.private_file import set_aside, write_private
from backend.core.settings import SettingsError, parse_ollama_host

log = logging.getLogger("cloudtolocalllm.settings")

SETTINGS_FILENAME = "settings.json"
THEMES = ("light", "dark", "system")
FONT_SIZE_MIN, FONT_SIZE_MAX = 12, 22
MODEL_NAME_MAX = 200
DEFAULTS: dict[str, Any] = {
    "ollama_url": None,  # None: the address from the launch, else Ollama's default
    "default_model": None,  # None: the newest installed model
    "theme": "system",
    "send_on_enter": True,
    "font_size": 14,
    # Tokens of history an OpenAI-compatible server's model takes when the server does not
    # say (llama.cpp's /props and vLLM's max_model_len do); None: 4096.
    "context_window": None,
}
CONTEXT_MIN, CONTEXT_MAX = 512, 10_000_000

OnChange = Callable[[dict[str, Any], frozenset[str]], None]


def _check_url(value: Any) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise ValueError("must be a string or null")
    try:
        return parse_ollama_host(value)
    except SettingsError as exc:
        raise ValueError(str(exc)) from exc


def _check_model(value: Any) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise ValueError("must be a model name or null")
    if len(value.strip()) > MODEL_NAME_MAX:
        raise ValueError(f"must be at most {MODEL_NAME_MAX} characters")
    return value.strip()


def _check_theme(value: Any) -> str:
    if value not in THEMES:
        raise ValueError("must be light, dark or system")
    return value


def _check_bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


def _check_font_size(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"must be a whole number from {FONT_SIZE_MIN} to {FONT_SIZE_MAX}")
    if not FONT_SIZE_MIN <= value <= FONT_SIZE_MAX:
        raise ValueError(f"must be a whole number from {FONT_SIZE_MIN} to {FONT_SIZE_MAX}")
    return value


def _check_context_window(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"must be a whole number from {CONTEXT_MIN} or null")
    if not CONTEXT_MIN <= value <= CONTEXT_MAX:
        raise ValueError(f"must be a whole number from {CONTEXT_MIN} to {CONTEXT_MAX}")
    return value


CHECKS: dict[str, Callable[[Any], Any]] = {
    "ollama_url": _check_url,
    "default_model": _check_model,
    "theme": _check_theme,
    "send_on_enter": _check_bool,
    "font_size": _check_font_size,
    "context_window": _check_context_window,
}


def validate(changes: Any) -> dict[str, Any]:
    """The changes, normalised; BadRequest naming the first unknown or invalid field."""
    if not isinstance(changes, dict):
        raise BadRequest("The body must be a JSON object", code="invalid_json")
    unknown = sorted(set(changes) - set(CHECKS))
    if unknown:
        known = ", ".join(CHECKS)
        message = f"{unknown[0]}: unknown setting (known: {known})"
        raise BadRequest(message, code="unknown_setting")
    clean = {}
    for name, value in changes.items():
        try:
            clean[name] = CHECKS[name](value)
        except ValueError as exc:
            raise BadRequest(f"{name}: {exc}", code="invalid_setting") from exc
    return clean


class UserSettings:
    """The saved preferences and the Ollama address in effect; safe to share between threads."""

    def __init__(
        self,
        path: Path,
        *,
        launch_ollama_url: str,
        launch_overrides: bool = False,
    ) -> None:
        """`launch_overrides`: the launch named an address, so it wins over the saved one."""
        self.path = Path(path)
        self._launch_url = launch_ollama_url
        self._override = launch_overrides
        self._listener: OnChange = lambda settings, changed: None
        self._lock = threading.Lock()
        self._saved = load(self.path)

    def on_change(self, listener: OnChange) -> None:
        """Call `listener(view, changed_keys)` after each update that changes something;
        it runs under the settings' lock, so changes are applied in the order they are made."""
        self._listener = listener

    @property
    def ollama_url(self) -> str:
        """The address the app uses now."""
        with self._lock:
            return self._effective_url()

    def default_model(self) -> str | None:
        with self._lock:
            return self._saved["default_model"]

    def context_window(self) -> int | None:
        with self._lock:
            return self._saved["context_window"]

    def get(self) -> dict[str, Any]:
        """The settings as `GET /api/settings` shows them."""
        with self._lock:
            return self._view()

    def update(self, changes: Any) -> dict[str, Any]:
        """Validate all, save atomically, apply; returns the new view. Nothing on error."""
        clean = validate(changes)
        with self._lock:
            before = self._view()
            saved = {**self._saved, **clean}
            save(self.path, saved)
            self._saved = saved
            if "ollama_url" in clean:
                self._override = False  # chosen now, in this run: it wins over the launch's
            after = self._view()
            changed = frozenset(k for k in after if after[k] != before[k])
            if changed:
                self._listener(after, changed)
        return after

    def _effective_url(self) -> str:
        if self._override or self._saved["ollama_url"] is None:
            return self._launch_url
        return self._saved["ollama_url"]

    def _view(self) -> dict[str, Any]:
        source = "launch" if self._override else "saved"
        if not self._override and self._saved["ollama_url"] is None:
            source = "default"
        return {
            **self._saved,
            "ollama_url": self._effective_url(),
            "ollama_url_source": source,
            "saved_ollama_url": self._saved["ollama_url"],
        }


def load(path: Path) -> dict[str, Any]:
    """The saved settings over the defaults. An unreadable file is renamed `.bad`; a bad
    or unknown field is skipped (and logged), keeping the others."""
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return dict(DEFAULTS)
    except OSError as exc:
        log.warning("cannot read %s (%s); using default settings", path, exc)
        return dict(DEFAULTS)
    try:
        stored = json.loads(raw)
        if not isinstance(stored, dict):
            raise ValueError("not a JSON object")
    except ValueError as exc:
        return _set_aside(path, exc)
    settings = dict(DEFAULTS)
    skipped = []
    for name, value in stored.items():
        try:
            settings[name] = CHECKS[name](value)
        except (KeyError, ValueError):
            skipped.append(name)
    if skipped:
        log.warning("ignored bad or unknown settings in %s: %s", path, ", ".join(skipped))
    return settings


def _set_aside(path: Path, reason: Exception) -> dict[str, Any]:
    set_aside(path, reason, log, "using defaults")
    return dict(DEFAULTS)


def save(path: Path, settings: dict[str, Any]) -> None:
    """Write the file whole or not at all (see `private_file`)."""
    body = json.dumps(settings, indent=2, ensure_ascii=False) + "\n"
    try:
        write_private(path, body)
    except OSError as exc:
        log.error("cannot save settings to %s: %s", path, exc)
        # The client is told why, never where: no path leaves the machine's logs.
        reason = exc.strerror or type(exc).__name__
        raise AppError(f"Cannot save settings: {reason}", code="settings_not_saved") from exc
