"""Item 3: many replies at once, several windows on one conversation, and sends that collide."""

from __future__ import annotations

import threading
import time

from tests.reliability.support import (
    assert_reply_well_formed,
    chat_send,
    collect_replies,
    is_final,
    token_text,
)


def new_conversation(ws, content: str = "first") -> str:
    chat_send(ws, content)
    (frames,) = collect_replies(ws, 1).values()
    assert frames[-1]["type"] == "complete"
    return frames[0]["conversation_id"]


def test_replies_stream_at_once_in_many_conversations_and_windows(launch, fake_ollama):
    fake_ollama.token_count, fake_ollama.token_delay = 100, 0.005
    app = launch()
    windows = [app.ws() for _ in range(3)]
    for i, ws in enumerate(windows):
        chat_send(ws, f"window {i} question a")
        chat_send(ws, f"window {i} question b")
    listed_meanwhile = app.get("api/conversations")["conversations"]  # reads while they stream
    for ws in windows:
        seen = ws.recv_until(lambda f: is_final(f) and f["seq"] > 0)
        seen += ws.recv_until(is_final)
        replies = collect_replies(ws, 2, already=seen)
        assert len(replies) == 2
        for frames in replies.values():
            assert_reply_well_formed(frames)
            assert frames[-1]["type"] == "complete"
            assert frames[-1]["content"] == token_text(100)
        # The window's two replies streamed at the same time: both began before either ended.
        starts = [i for i, f in enumerate(seen) if f["type"] == "start"]
        assert len(starts) == 2 and max(starts) < next(i for i, f in enumerate(seen) if is_final(f))
    conversations = app.get("api/conversations")["conversations"]
    assert len(conversations) == 6 and len(listed_meanwhile) <= 6
    for conversation in conversations:
        user, reply = app.conversation(conversation["id"])["messages"]
        assert (reply["status"], reply["content"]) == ("complete", token_text(100))


def test_two_sockets_on_one_conversation_both_see_its_frames(launch, fake_ollama):
    app = launch()
    sender, watcher, late = app.ws(), app.ws(), app.ws()
    conversation_id = new_conversation(sender)
    watcher.send({"type": "conversation.watch", "conversation_id": conversation_id})
    ack = watcher.recv()
    assert ack == {
        "type": "conversation.watching",
        "conversation_id": conversation_id,
        "streaming": [],
    }
    sender.send({"type": "conversation.watch", "conversation_id": conversation_id})
    assert sender.recv()["type"] == "conversation.watching"
    fake_ollama.token_count, fake_ollama.token_delay = 80, 0.01
    chat_send(sender, "second", conversation_id)
    sent = sender.recv_until(lambda f: f["type"] == "chunk")
    # A window opened mid-reply catches up: `start`, the text so far, then the rest.
    late.send({"type": "conversation.watch", "conversation_id": conversation_id})
    late_ack = late.recv()
    message_id = sent[-1]["message_id"]
    assert late_ack["streaming"] == [message_id]
    for ws, already in ((sender, sent), (watcher, ()), (late, ())):
        (frames,) = collect_replies(ws, 1, already=already).values()
        assert_reply_well_formed(frames)  # the sender, who also watches, gets it once
        assert frames[0]["message_id"] == message_id
        assert frames[-1]["type"] == "complete" and frames[-1]["content"] == token_text(80)

    watcher.send({"type": "conversation.unwatch", "conversation_id": conversation_id})
    assert watcher.recv()["type"] == "conversation.unwatched"
    fake_ollama.token_delay = 0.0
    chat_send(sender, "third", conversation_id)
    collect_replies(sender, 1)
    collect_replies(late, 1)  # still watching
    watcher.send({"type": "ping"})
    assert watcher.recv() == {"type": "pong"}  # nothing of the third reply came first


def test_watching_an_unknown_conversation_is_an_error(launch):
    ws = launch().ws()
    for frame, code in (
        ({"type": "conversation.watch", "conversation_id": "nope"}, "not_found"),
        ({"type": "conversation.watch"}, "missing_field"),
        ({"type": "conversation.watch", "conversation_id": 7}, "invalid_field"),
    ):
        ws.send(frame)
        assert ws.recv()["code"] == code


def test_a_send_to_a_streaming_conversation_is_refused_as_busy(launch, fake_ollama):
    """Not queued: the second message is refused with `busy` and left with the user (the UI
    gives it back to the composer); the reply streaming goes on untouched."""
    app = launch()
    first, second = app.ws(), app.ws()
    conversation_id = new_conversation(first)
    fake_ollama.token_count, fake_ollama.token_delay = 60, 0.01
    chat_send(first, "long answer please", conversation_id)
    streaming = first.recv_until(lambda f: f["type"] == "start")
    for ws in (second, first):
        request_id = chat_send(ws, "me too", conversation_id)
        read = ws.recv_until(lambda f: f["type"] == "error" and "message_id" not in f)
        streaming += read[:-1] if ws is first else []
        busy = read[-1]
        assert (busy["code"], busy["request_id"]) == ("busy", request_id)
        assert "streaming" in busy["message"]
    message_id = next(f for f in streaming if f["type"] == "start")["message_id"]
    second.send({"type": "chat.regenerate", "request_id": "r", "message_id": message_id})
    assert second.recv()["code"] == "busy"
    (frames,) = collect_replies(first, 1, already=streaming).values()
    assert_reply_well_formed(frames)
    assert frames[-1]["type"] == "complete" and frames[-1]["content"] == token_text(60)
    contents = [m["content"] for m in app.conversation(conversation_id)["messages"]]
    assert "me too" not in contents
    chat_send(second, "me too", conversation_id)  # free again the moment it ended
    assert collect_replies(second, 1).popitem()[1][-1]["type"] == "complete"


def test_simultaneous_sends_to_one_conversation_start_exactly_one_reply(launch, fake_ollama):
    app = launch()
    windows = [app.ws() for _ in range(6)]
    conversation_id = new_conversation(windows[0])
    fake_ollama.token_count, fake_ollama.token_delay = 40, 0.01
    go = threading.Barrier(len(windows))

    def send(ws, i):
        go.wait()
        chat_send(ws, f"race {i}", conversation_id)

    threads = [threading.Thread(target=send, args=(ws, i)) for i, ws in enumerate(windows)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    answers = [ws.recv_until(lambda f: f["type"] in ("start", "error"))[-1] for ws in windows]
    assert sorted(a["type"] for a in answers) == ["error"] * 5 + ["start"]
    assert {a["code"] for a in answers if a["type"] == "error"} == {"busy"}
    winner = windows[[a["type"] for a in answers].index("start")]
    assert collect_replies(winner, 1).popitem()[1][-1]["type"] == "complete"
    assert len(app.conversation(conversation_id)["messages"]) == 4


def test_a_delete_just_after_a_send_cancels_that_reply_cleanly(launch, fake_ollama):
    """Issue 12 item 6: a delete 0-30 ms after `chat.send` reserves the conversation as the
    other mutations do. A reply that started ends `cancelled`; a send that came too late
    is refused as `not_found`; never `internal_error`, never a traceback in the log."""
    app = launch()
    ws = app.ws()
    fake_ollama.token_count, fake_ollama.token_delay = 40, 0.005
    for delay_ms in (0, 0, 1, 2, 3, 5, 8, 10, 15, 20, 25, 30):
        conversation_id = new_conversation(ws)
        request_id = chat_send(ws, "answer slowly", conversation_id)
        time.sleep(delay_ms / 1000)
        deleted = app.request("DELETE", f"api/conversations/{conversation_id}")
        assert deleted.status_code == 204, deleted.text
        answer = ws.recv_until(lambda f, rid=request_id: f.get("request_id") == rid)[-1]
        if answer["type"] == "start":
            (frames,) = collect_replies(ws, 1, already=[answer]).values()
            assert frames[-1]["type"] == "cancelled", (delay_ms, frames[-1])
        else:
            assert (answer["type"], answer["code"]) == ("error", "not_found"), (delay_ms, answer)
        assert app.request("GET", f"api/conversations/{conversation_id}").status_code == 404
    assert "Traceback" not in app.logs()
    assert "internal_error" not in app.logs()
