"""Helpers for driving the app with a hostile Ollama: raw chat lines, and the check that
every reply, however it ended, was stored in the state its final frame told."""

from __future__ import annotations

from typing import Any

from tests.fake_ollama import go_json
from tests.raw_chat import RawChat
from tests.reliability.support import MODEL, chat_send, collect_replies, peek_db
from tests.wsclient import WsClient

STATUS_OF_FINAL = {"complete": "complete", "cancelled": "cancelled", "error": "error"}


def chat_line(message: Any = None, *, done: bool = False, **fields: Any) -> bytes:
    """One NDJSON line of a chat stream; `message` as given, whatever its type."""
    line = {"model": MODEL, "created_at": "2026-01-01T00:00:00Z", "message": message}
    line.update(done=done, **fields)
    return go_json(line) + b"\n"


def token(text: Any) -> bytes:
    return chat_line({"role": "assistant", "content": text})


DONE = chat_line(
    {"role": "assistant", "content": ""},
    done=True,
    done_reason="stop",
    eval_count=3,
    eval_duration=1_000_000,
    prompt_eval_count=5,
    total_duration=2_000_000,
)


def reply_to(
    app: Any, ws: WsClient, fake: Any, script: RawChat, conversation_id: str | None = None
):
    """Send a message answered by `script`; the reply's frames and its stored row."""
    fake.raw_chat = script
    try:
        chat_send(ws, "hello", conversation_id)
        (frames,) = collect_replies(ws, 1, timeout=60).values()
    finally:
        fake.raw_chat = None
    return frames, stored_reply(app, frames[0]["message_id"])


def stored_reply(app: Any, message_id: str) -> dict[str, Any]:
    """The row as another process reads it from disk (no cache, no API in between)."""
    ((content, status, error),) = peek_db(
        app.data_dir / "cloudtolocalllm.db",
        "SELECT content, status, error FROM messages WHERE id = ?",
        (message_id,),
    )
    return {"content": content, "status": status, "error": error}


def assert_stored_as_told(frames: list[dict], stored: dict[str, Any]) -> None:
    """The contract: no internal error, and the final frame's state is the stored one."""
    final = frames[-1]
    assert final.get("code") != "internal_error", final
    deltas = "".join(f.get("delta", "") for f in frames[1:-1])
    assert final["content"] == deltas
    assert stored["status"] == STATUS_OF_FINAL[final["type"]], (final, stored)
    assert stored["content"] == final["content"]
