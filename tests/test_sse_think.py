"""The SSE decoder and the <think> tag splitter, fed every way a network can cut them."""

from __future__ import annotations

import pytest

from backend.core.providers.base import ContentDelta, ThinkingDelta
from backend.core.providers.openai.sse import SSEDecoder
from backend.core.providers.openai.think import ThinkTags, strip_think

STREAM = (
    b"\xef\xbb\xbf: a comment first\n"
    b"retry: 3000\n"
    b"event: message\n"
    b'data: {"a":\n'
    b"data:1}\n"
    b"\n"
    b": keep-alive\n\n"
    b"id: 7\r\n"
    b'data: {"b":2}\r\n'
    b"\r\n"
    b'data: {"c":3}\r\r'
    b"data\n\n"
    b"data: [DONE]\n\n"
)
EVENTS = [b'{"a":\n1}', b'{"b":2}', b'{"c":3}', b"", b"[DONE]"]


def decode(pieces: list[bytes]) -> list[bytes]:
    decoder = SSEDecoder()
    return [event for piece in pieces for event in decoder.feed(piece)]


def test_events_in_one_read() -> None:
    assert decode([STREAM]) == EVENTS


@pytest.mark.parametrize("cut", range(1, len(STREAM)))
def test_events_cut_at_every_byte(cut: int) -> None:
    assert decode([STREAM[:cut], STREAM[cut:]]) == EVENTS


def test_events_one_byte_per_read() -> None:
    assert decode([STREAM[i : i + 1] for i in range(len(STREAM))]) == EVENTS


def test_an_unfinished_event_is_kept_until_the_stream_ends() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b'data: {"x":1}\n\ndata: [DONE]') == [b'{"x":1}']
    assert decoder.finish() == b"[DONE]"
    assert SSEDecoder().finish() is None


def events_of(pieces: list[str]) -> tuple[str, str]:
    tags = ThinkTags()
    events = [e for piece in pieces for e in tags.feed(piece)] + tags.flush()
    assert all(e.text for e in events), "no empty deltas"
    thinking = "".join(e.text for e in events if isinstance(e, ThinkingDelta))
    content = "".join(e.text for e in events if isinstance(e, ContentDelta))
    return thinking, content


REPLY = "\n<think>\nThe user greets me.\n</think>\n\nHello <b>there</b>!"


@pytest.mark.parametrize("cut", range(len(REPLY) + 1))
def test_think_block_cut_anywhere(cut: int) -> None:
    assert events_of([REPLY[:cut], REPLY[cut:]]) == (
        "\nThe user greets me.\n",
        "Hello <b>there</b>!",
    )


def test_think_block_one_character_per_chunk() -> None:
    assert events_of(list(REPLY)) == ("\nThe user greets me.\n", "Hello <b>there</b>!")


def test_a_think_tag_after_text_is_text() -> None:
    text = "Use <think> tags like <think>this</think>."
    assert events_of([text[:9], text[9:]]) == ("", text)


def test_text_that_only_looks_like_the_tag_start_is_text() -> None:
    assert events_of(["<th", "ink about it>"]) == ("", "<think about it>")
    assert events_of(["<", "b>bold</b>"]) == ("", "<b>bold</b>")


def test_a_reply_that_ends_inside_the_block_keeps_its_thinking() -> None:
    assert events_of(["<think>still thinking</th"]) == ("still thinking</th", "")


def test_strip_think_gives_the_visible_text() -> None:
    assert strip_think("<think>hmm</think>\n\nA title") == "A title"
    assert strip_think("A title") == "A title"
