"""Refusing images a model cannot see, before anything is stored or sent.

Ollama's `/api/show` lists a model's `capabilities`; a model without "vision" would
otherwise drop the images silently (or fail mid-reply). Servers that can't say (the
OpenAI API has no such field) are sent the images, and their own error is shown.
"""

from __future__ import annotations

import threading

from backend.core.errors import AppError, BadRequest
from backend.core.providers.base import Provider

SHOW_TIMEOUT_S = 5.0


class ModelCannotSeeImages(BadRequest):
    code = "model_cannot_see_images"


class VisionCheck:
    """Asks each server once per model whether it sees images."""

    def __init__(self, *, show_timeout_s: float = SHOW_TIMEOUT_S) -> None:
        self._show_timeout_s = show_timeout_s
        self._lock = threading.Lock()
        self._sees: dict[tuple[str, str], bool | None] = {}

    def sees(self, provider: Provider, model: str) -> bool | None:
        """True or False as the server says; None if it can't say (not cached then)."""
        key = (provider.base_url, model)
        with self._lock:
            if key in self._sees:
                return self._sees[key]
        try:
            listed = provider.capabilities(model, timeout=self._show_timeout_s)
        except AppError:
            return None  # the reply itself will report what is wrong with the server
        sees = None if listed is None else "vision" in listed
        if sees is not None:
            with self._lock:
                self._sees[key] = sees
        return sees

    def refuse_if_blind(self, provider: Provider, model: str) -> None:
        if self.sees(provider, model) is False:
            raise ModelCannotSeeImages(
                f"{model} cannot see images. Pick a vision model (for example llava, "
                "llama3.2-vision or gemma3), or send the message without its images."
            )
