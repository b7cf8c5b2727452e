"""A conversation as a Markdown document a person can read, share or archive."""

from __future__ import annotations

from typing import Any

_SPEAKERS = {"user": "You", "assistant": "Assistant", "system": "System"}
_NOTES = {
    "cancelled": "stopped by you",
    "interrupted": "interrupted",
    "error": "failed",
    "streaming": "still streaming",
}


def conversation_markdown(conversation: dict[str, Any]) -> str:
    lines = [f"# {conversation['title']}", ""]
    meta = [f"Created {conversation['created_at']}"]
    if conversation.get("model"):
        meta.append(f"model `{conversation['model']}`")
    lines += [" · ".join(meta), ""]
    if conversation.get("system_prompt"):
        lines += ["> **System prompt:** " + conversation["system_prompt"].replace("\n", "\n> "), ""]
    for message in conversation.get("messages", []):
        heading = _SPEAKERS.get(message["role"], message["role"].title())
        if message["role"] == "assistant" and message.get("model"):
            heading += f" ({message['model']})"
        note = _NOTES.get(message.get("status", ""))
        if note:
            heading += f" — {note}"
        lines += [f"## {heading}", "", message["content"] or "_(no text)_", ""]
        if message.get("error"):
            lines += [f"> Error: {message['error']}", ""]
    return "\n".join(lines).rstrip() + "\n"
