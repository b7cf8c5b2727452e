"""The user's settings: a change takes effect (a new Ollama address) and is announced."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from backend.core.topics import SETTINGS_CHANGED


def follow_settings(
    use_ollama: Callable[[str], None], publish: Callable[[str, dict], None]
) -> Callable[[dict[str, Any], frozenset[str]], None]:
    """The reaction to a settings change, for `UserSettings.on_change`."""

    def changed(new: dict[str, Any], names: frozenset[str]) -> None:
        if "ollama_url" in names:
            use_ollama(new["ollama_url"])
        publish(SETTINGS_CHANGED, {"settings": new})

    return changed
