"""What the model is sent, and how a new conversation is first titled."""

from __future__ import annotations

import base64
import re
from typing import Any

TITLE_MAX_CHARS = 60

# Partial replies the user saw stay in the context; failed and unfinished ones do not.
_ASSISTANT_STATUSES_IN_CONTEXT = {"complete", "cancelled", "interrupted"}


def title_from(content: str) -> str:
    """A title from the first user message: its first line, cut at a word boundary."""
    first_line = next((line for line in content.splitlines() if line.strip()), "")
    text = re.sub(r"\s+", " ", first_line).strip().lstrip("#>*- ").strip()
    if not text:
        return "New chat"
    if len(text) <= TITLE_MAX_CHARS:
        return text
    cut = text[: TITLE_MAX_CHARS + 1].rsplit(" ", 1)[0]
    if len(cut) < TITLE_MAX_CHARS // 2:  # one very long word: cut it instead
        cut = text[:TITLE_MAX_CHARS]
    return cut.rstrip(" ,.;:") + "…"


def build_messages(
    system_prompt: str | None,
    earlier: list[dict[str, Any]],
    images: dict[str, list[tuple[str, bytes]]] | None = None,
) -> list[dict]:
    """Ollama's `messages`: the system prompt, then the conversation's usable turns; a user
    message with images (`images`: message id to (mime, bytes)) carries them in base64."""
    messages: list[dict] = []
    if system_prompt and system_prompt.strip():
        messages.append({"role": "system", "content": system_prompt})
    for message in earlier:
        role = message["role"]
        if role == "user":
            sent: dict[str, Any] = {"role": "user", "content": message["content"]}
            attached = (images or {}).get(message["id"])
            if attached:
                sent["images"] = [base64.b64encode(data).decode("ascii") for _, data in attached]
            messages.append(sent)
        elif role == "assistant":
            if message["status"] in _ASSISTANT_STATUSES_IN_CONTEXT and message["content"]:
                messages.append({"role": "assistant", "content": message["content"]})
        elif role == "system":
            messages.append({"role": "system", "content": message["content"]})
    return messages
