"""Fitting the history into the model's context window.

Ollama silently drops the start of a prompt that does not fit its `num_ctx`, system prompt
included. We trim first, on our terms: the oldest turns go, the system prompt and the new
message always stay, and the user is told how many messages were left out.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from backend.core.errors import AppError
from backend.core.providers.base import Provider

# Ollama runs a model with num_ctx 4096 unless the request sets `num_ctx`, however long the
# model's own (trained) context is: trimming to the model's 128 K would let Ollama cut
# the prompt itself. A smaller trained context (e.g. 2048) is the real limit.
OLLAMA_DEFAULT_NUM_CTX = 4096
# /api/show reads a manifest and answers at once; a slower one is a hung Ollama, and the
# reply's `start` frame waits for it.
SHOW_TIMEOUT_S = 5.0
# Messages carry template tokens (role markers, separators) beyond their text.
TOKENS_PER_MESSAGE = 4
# An image costs a vision model hundreds of tokens whatever its size (its encoder sees a
# fixed grid of patches: e.g. 256 for Gemma 3, 576 for LLaVA 1.5); counted at the high end.
TOKENS_PER_IMAGE = 768


def estimate_tokens(text: str) -> int:
    """A cheap upper-ish estimate: one token per 4 bytes of UTF-8.

    English averages ~4 characters per token with the BPE tokenizers of Llama, Qwen,
    Mistral and Gemma. Counting UTF-8 bytes instead of characters keeps the estimate
    from falling far short for scripts whose characters are tokens of their own (CJK,
    about 3 bytes each). No tokenizer is loaded: this runs for every message sent.
    """
    return math.ceil(len(text.encode("utf-8", "surrogatepass")) / 4)


def message_tokens(message: dict[str, Any]) -> int:
    images = len(message.get("images") or ())
    text = estimate_tokens(str(message.get("content", "")))
    return TOKENS_PER_MESSAGE + text + images * TOKENS_PER_IMAGE


def reply_room(num_ctx: int, options: dict[str, Any] | None) -> int:
    """Tokens kept free for the answer: `num_predict` if set, else a quarter of the window,
    and never more than half of it."""
    wanted = (options or {}).get("num_predict")
    room = wanted if isinstance(wanted, int) and wanted > 0 else num_ctx // 4
    return min(room, num_ctx // 2)


@dataclass(frozen=True)
class Fitted:
    messages: list[dict[str, Any]]
    dropped: int
    num_ctx: int

    def frame_info(self) -> dict[str, int]:
        return {"dropped": self.dropped, "num_ctx": self.num_ctx}


def fit(
    messages: list[dict[str, Any]], num_ctx: int, options: dict | None = None, *, keep: int = 1
) -> Fitted:
    """Drop the oldest messages until the rest fits `num_ctx` minus the reply's room.

    System messages and the last `keep` messages (the one being answered; for a continued
    reply also the reply's text so far) always stay, even if they alone are too long. After
    a drop, an assistant message left at the front of the history goes too, so the model
    never sees an answer without its question.
    """
    budget = num_ctx - reply_room(num_ctx, options)
    tail = len(messages) - keep
    droppable = [i for i, m in enumerate(messages) if i < tail and m.get("role") != "system"]
    total = sum(message_tokens(m) for m in messages)
    dropped: set[int] = set()
    for index in droppable:
        orphan = dropped and messages[index].get("role") == "assistant"
        if total <= budget and not orphan:
            break
        dropped.add(index)
        total -= message_tokens(messages[index])
    kept = [m for i, m in enumerate(messages) if i not in dropped]
    return Fitted(kept, len(dropped), num_ctx)


class ContextWindows:
    """The num_ctx a reply will run with; the server is asked once per model (Ollama's
    `/api/show`, an OpenAI-compatible server's `/v1/models` or `/props`)."""

    def __init__(
        self,
        *,
        show_timeout_s: float = SHOW_TIMEOUT_S,
        fallback: Callable[[], int | None] = lambda: None,
    ) -> None:
        self._show_timeout_s = show_timeout_s
        self._fallback = fallback  # the setting for servers that do not say
        self._lock = threading.Lock()
        self._trained: dict[tuple[str, str], int | None] = {}

    def num_ctx(self, provider: Provider, model: str, options: dict[str, Any] | None) -> int:
        asked = (options or {}).get("num_ctx")
        if isinstance(asked, int) and asked > 0:
            return asked  # sent to Ollama with the request, so it is what Ollama will use
        trained = self.trained(provider, model)
        if provider.kind != "ollama":
            # The server runs the model with the window it reports (llama.cpp's n_ctx,
            # vLLM's max_model_len); a request cannot change it.
            return trained or self._fallback() or OLLAMA_DEFAULT_NUM_CTX
        return min(trained, OLLAMA_DEFAULT_NUM_CTX) if trained else OLLAMA_DEFAULT_NUM_CTX

    def trained(self, provider: Provider, model: str) -> int | None:
        """The model's own context length, or None if the server can't say (not cached then)."""
        key = (provider.base_url, model if ":" in model.rsplit("/", 1)[-1] else f"{model}:latest")
        with self._lock:
            if key in self._trained:
                return self._trained[key]
        try:
            found = provider.context_window(model, timeout=self._show_timeout_s)
        except AppError:
            return None  # the reply itself will report what is wrong with Ollama
        with self._lock:
            self._trained[key] = found
        return found
