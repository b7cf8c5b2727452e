"""A hostile Ollama: lines of the wrong types, lone surrogates, a line that never ends.
Whatever it sends, the reply ends with a clear frame, stored in the state it tells."""

from __future__ import annotations

import pytest

from tests.raw_chat import RawChat
from tests.reliability.hostile_ollama import (
    DONE,
    assert_stored_as_told,
    chat_line,
    reply_to,
    token,
)

SHOWN = [token("Hello"), token(", world")]  # what the user sees before the hostile line


WRONG_TYPES = {
    "content_is_a_number": token(12345),
    "content_is_an_object": token({"text": "hi"}),
    "message_is_an_array": chat_line(["Hello"]),
    "message_is_a_string": chat_line("Hello"),
    "thinking_is_a_number": chat_line({"role": "assistant", "content": "", "thinking": 7}),
}


@pytest.mark.parametrize("line", WRONG_TYPES.values(), ids=WRONG_TYPES.keys())
def test_a_line_of_the_wrong_types_ends_the_reply_with_a_protocol_error(hostile, line):
    app, ws, fake = hostile
    frames, stored = reply_to(app, ws, fake, RawChat([*SHOWN, line, DONE]))
    assert_stored_as_told(frames, stored)
    final = frames[-1]
    assert (final["type"], final["code"]) == ("error", "ollama_protocol_error")
    assert final["content"] == "Hello, world"  # the text already shown is kept
    assert "wrong type" in final["message"] and stored["error"] == final["message"]
    ws.send({"type": "ping"})
    assert ws.recv() == {"type": "pong"}


def test_a_null_message_is_a_line_without_text(hostile):
    app, ws, fake = hostile
    frames, stored = reply_to(app, ws, fake, RawChat([*SHOWN, chat_line(None), DONE]))
    assert_stored_as_told(frames, stored)
    assert (frames[-1]["type"], stored["content"]) == ("complete", "Hello, world")


def test_a_lone_surrogate_becomes_a_replacement_character_as_in_ollamas_own_decoder(hostile):
    app, ws, fake = hostile
    surrogate = b'{"model":"llama3.2","message":{"role":"assistant","content":"a\\ud800b"}}\n'
    frames, stored = reply_to(app, ws, fake, RawChat([*SHOWN, surrogate, DONE]))
    assert_stored_as_told(frames, stored)
    assert frames[-1]["type"] == "complete"
    assert stored["content"] == "Hello, worlda\ufffdb"


def test_stats_no_column_can_hold_are_left_out_and_the_reply_completes(hostile):
    app, ws, fake = hostile
    done = (
        b'{"model":"llama3.2","message":{"role":"assistant","content":""},"done":true,'
        b'"done_reason":["stop"],"eval_count":123456789012345678901234567890,'
        b'"eval_duration":NaN,"prompt_eval_count":-5}\n'
    )
    frames, stored = reply_to(app, ws, fake, RawChat([*SHOWN, done]))
    assert_stored_as_told(frames, stored)
    final = frames[-1]
    assert final["type"] == "complete" and final["done_reason"] == "stop"
    assert final["stats"]["eval_count"] == 0 and final["stats"]["prompt_eval_count"] == 0


def test_an_error_line_with_an_object_for_its_error_is_told_in_words(hostile):
    app, ws, fake = hostile
    line = b'{"error":{"detail":"boom"}}\n'
    frames, stored = reply_to(app, ws, fake, RawChat([*SHOWN, line]))
    assert_stored_as_told(frames, stored)
    assert frames[-1]["code"] == "ollama_stream_error"
    assert "{" not in frames[-1]["message"]


def test_a_line_that_never_ends_is_refused_at_the_cap_without_waiting_for_the_rest(hostile):
    """5 MiB with no newline, then silence: the app must not hold it, nor wait for more."""
    app, ws, fake = hostile
    endless = [b'{"message":{"content":"'] + [b"x" * 65536] * 80
    frames, stored = reply_to(app, ws, fake, RawChat([*SHOWN, *endless], end="hang"))
    assert_stored_as_told(frames, stored)
    final = frames[-1]
    assert (final["code"], final["content"]) == ("ollama_protocol_error", "Hello, world")
    assert "longer than 4 MiB" in final["message"]
    ws.send({"type": "ping"})
    assert ws.recv() == {"type": "pong"}
