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
        if message.get("images"):
            lines += [_images_note(message["images"]), ""]
        if message.get("error"):
            lines += [f"> Error: {message['error']}", ""]
    return "\n".join(lines).rstrip() + "\n"


def _images_note(images: list[dict[str, Any]]) -> str:
    """Images are not embedded in Markdown: they are named (the JSON export keeps them)."""
    each = ", ".join(
        f"{i['mime'].removeprefix('image/').upper()} {_size(i['size'])}" for i in images
    )
    count = f"{len(images)} image" + ("s" if len(images) > 1 else "")
    return f"_[{count} attached: {each}; kept in the JSON export]_"


def _size(size: int) -> str:
    return f"{size / 2**20:.1f} MB" if size >= 2**20 else f"{max(1, round(size / 1024))} KB"
