"""`chunk` frames coalesced in time: at most one per interval per reader, the first at once,
nothing held back when the model pauses, nothing lost or reordered."""

from __future__ import annotations

import queue
import threading
import time

import pytest

from backend.core.chat.reply import CHUNK_INTERVAL_S, Reply
from tests.raw_chat import RawChat
from tests.reliability.hostile_ollama import chat_line, token
from tests.reliability.support import (
    assert_reply_well_formed,
    chat_send,
    collect_replies,
    token_text,
)
from tests.test_progress_writer import ManualClock
from tests.wsclient import WsClient

FINAL = {"type": "complete", "message_id": "m", "content": "", "done_reason": "stop"}
LONG_S = 1000.0  # an interval no test waits out: a delta held for it is held until the end


class Reader:
    """One reader of a reply on a thread of its own; its frames land in a queue."""

    def __init__(self, reply: Reply) -> None:
        self.frames: queue.Queue[dict] = queue.Queue()
        self.thread = threading.Thread(target=self._read, args=(reply,), daemon=True)
        self.thread.start()

    def _read(self, reply: Reply) -> None:
        for frame in reply.frames():
            self.frames.put(frame)

    def next(self) -> dict:
        return self.frames.get(timeout=10)

    def rest(self) -> list[dict]:
        """The frames up to the final one."""
        frames = [self.next()]
        while frames[-1]["type"] == "chunk":
            frames.append(self.next())
        self.thread.join(10)
        return frames


def new_reply(clock: ManualClock) -> Reply:
    reply = Reply(
        request_id="r",
        conversation_id="c",
        user_message_id="u",
        message_id="m",
        model="llama3.2",
        chunk_interval_s=LONG_S,
        clock=clock,
    )
    reply.begin({"dropped": 0, "num_ctx": None})
    return reply


def streaming(clock: ManualClock) -> tuple[Reply, Reader]:
    """A reply and a reader that has had its `start` frame."""
    reply = new_reply(clock)
    reader = Reader(reply)
    assert reader.next()["type"] == "start"
    return reply, reader


def test_the_first_delta_goes_at_once_and_those_close_behind_it_travel_together():
    reply, reader = streaming(ManualClock())
    reply.push(content="The")
    assert reader.next()["delta"] == "The"  # not held: the clock has not moved
    for word in (" sky", " is", " blue"):
        reply.push(content=word)
    reply.finish({**FINAL, "content": "The sky is blue"})
    chunk, final = reader.rest()
    assert (chunk["delta"], chunk["seq"]) == (" sky is blue", 2)
    assert (final["type"], final["seq"]) == ("complete", 3)


def test_a_delta_that_comes_after_the_interval_is_not_held():
    clock = ManualClock()
    reply, reader = streaming(clock)
    reply.push(content="slow")
    assert reader.next()["delta"] == "slow"
    clock.now += LONG_S  # a slow model: the next token comes after the interval
    reply.push(content=" model")
    assert reader.next() == {"type": "chunk", "message_id": "m", "seq": 2, "delta": " model"}
    reply.finish({**FINAL, "content": "slow model"})
    assert reader.rest()[0]["seq"] == 3


def test_thinking_and_content_held_together_stay_apart_in_one_chunk():
    reply, reader = streaming(ManualClock())
    reply.push(thinking="Hmm,")
    assert reader.next() == {
        "type": "chunk",
        "message_id": "m",
        "seq": 1,
        "delta": "",
        "thinking": "Hmm,",
    }
    reply.push(thinking=" the sky.")
    reply.push(content="Blue")
    reply.push(content=".")
    reply.finish({**FINAL, "content": "Blue."})
    chunk, _final = reader.rest()
    assert (chunk["thinking"], chunk["delta"]) == (" the sky.", "Blue.")


def test_a_reader_that_joins_late_gets_the_text_so_far_at_once():
    reply, first = streaming(ManualClock())
    reply.push(content="one")
    reply.push(content=" two")
    late = Reader(reply)
    late.next()
    assert late.next()["delta"] == "one two"  # its first chunk, though the clock stood still
    reply.finish({**FINAL, "content": "one two"})
    assert "".join(f.get("delta", "") for f in [first.next(), *first.rest()][:-1]) == "one two"
    assert late.rest()[-1]["seq"] == 2


@pytest.fixture
def sockets(runtime):
    url = runtime.url.replace("http://", "ws://") + f"ws?token={runtime.token}"
    opened = [WsClient(url), WsClient(url)]
    yield opened
    for ws in opened:
        ws.close()


def new_conversation(ws: WsClient) -> str:
    chat_send(ws, "first")
    (frames,) = collect_replies(ws, 1).values()
    return frames[0]["conversation_id"]


def test_a_fast_model_reaches_the_sender_and_a_watcher_in_few_chunks(sockets, fake_ollama):
    sender, watcher = sockets
    conversation_id = new_conversation(sender)
    watcher.send({"type": "conversation.watch", "conversation_id": conversation_id})
    assert watcher.recv()["type"] == "conversation.watching"
    # A token a millisecond, each in a network write of its own: without coalescing in
    # time nearly every one would be a frame of its own.
    fake_ollama.token_count, fake_ollama.token_delay = 400, 0.001
    began = time.monotonic()
    chat_send(sender, "quickly", conversation_id)
    replies = [collect_replies(ws, 1).values() for ws in (sender, watcher)]
    took = time.monotonic() - began
    for (frames,) in replies:
        assert_reply_well_formed(frames)
        assert frames[-1]["type"] == "complete" and frames[-1]["content"] == token_text(400)
        chunks = len(frames) - 2
        # Every chunk was sent within `took`, one per interval, plus the first and the one
        # that flushed the rest before `complete` (~30 of 400 tokens when the fake takes
        # 0.4 s; a loaded machine only makes the bound looser, never the test fail).
        assert chunks <= took / CHUNK_INTERVAL_S + 2


def test_tokens_before_a_pause_are_not_held_back(sockets, fake_ollama):
    """The model stalls mid-reply: the tokens it sent reach the client all the same (the
    flush timer), with no final frame to push them out."""
    sender, _ = sockets
    words = ["Thinking", " this", " over"]
    fake_ollama.raw_chat = RawChat([token(w) for w in words], end="hang")
    chat_send(sender, "a hard one")
    shown = ""
    while shown != "".join(words):
        frame = sender.recv()
        assert frame["type"] in ("start", "chunk")
        if frame["type"] == "start":
            message_id = frame["message_id"]
        shown += frame.get("delta", "")
    sender.send({"type": "chat.cancel", "message_id": message_id})
    final = sender.recv()
    assert (final["type"], final["content"]) == ("cancelled", "Thinking this over")


def test_thinking_and_content_of_one_read_arrive_apart(sockets, fake_ollama):
    sender, _ = sockets
    thought = chat_line({"role": "assistant", "content": "", "thinking": "Rayleigh."})
    piece = thought + token("Blue") + token(".")
    fake_ollama.raw_chat = RawChat([piece], end="hang")
    chat_send(sender, "why?")
    thinking = content = ""
    while content != "Blue.":
        frame = sender.recv()
        thinking += frame.get("thinking", "")
        content += frame.get("delta", "")
    assert thinking == "Rayleigh."
    fake_ollama.raw_chat = None
