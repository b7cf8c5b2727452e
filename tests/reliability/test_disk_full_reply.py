"""Disk full mid-reply: the reply ends with `database_error`, and its row says so at once
(not `streaming` until the next start), with the text that fitted, a prefix of the text
shown. A real tmpfs of 2 MB, filled by a real reply."""

from __future__ import annotations

from tests.reliability.hostile_ollama import stored_reply
from tests.reliability.support import chat_send, collect_replies

BIG_TOKEN = "lorem ipsum dolor " * 50


def test_a_full_disk_mid_reply_stores_the_final_status_at_once(
    mounts, launch, fake_ollama, tmp_path
):
    data = mounts.tmpfs(tmp_path / "small-disk", "2m")
    app = launch(data=data)
    ws = app.ws()
    fake_ollama.tokens = [BIG_TOKEN] * 3000  # 2.7 MB: more than the disk
    chat_send(ws, "fill the disk")
    (frames,) = collect_replies(ws, 1, timeout=60).values()
    final = frames[-1]
    assert (final["type"], final["code"]) == ("error", "database_error")
    shown = "".join(f.get("delta", "") for f in frames[1:-1])
    assert final["content"] == shown

    stored = stored_reply(app, final["message_id"])  # the disk is still full
    assert stored["status"] == "error" and stored["error"] == final["message"]
    assert shown.startswith(stored["content"])
    (conversation,) = app.get("api/conversations")["conversations"]
    reply = app.conversation(conversation["id"])["messages"][-1]
    assert (reply["status"], reply["content"]) == ("error", stored["content"])
    ws.send({"type": "ping"})
    assert ws.recv() == {"type": "pong"}
    assert app.stop() == 0
