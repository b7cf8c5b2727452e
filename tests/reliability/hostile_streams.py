"""Generated Ollama chat streams for the hostile-Ollama fuzz and its soak script: valid and
invalid JSON, fields of every type, huge fields, lone surrogates, NaN stats, any split
across network reads, early closes, no `done` line."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

from tests.raw_chat import RawChat
from tests.reliability.fuzz import json_values, texts
from tests.reliability.hostile_ollama import assert_stored_as_told, reply_to

HUGE_FIELD = 300_000  # characters: a token no model sends, far below the 4 MiB line cap


def encode(line: dict[str, Any]) -> bytes:
    """JSON as a hostile peer may write it: NaN allowed, lone surrogates as escapes."""
    return json.dumps(line, allow_nan=True).encode() + b"\n"


def _message(content: Any, thinking: Any = None) -> dict[str, Any]:
    message = {"role": "assistant", "content": content}
    if thinking is not None:
        message["thinking"] = thinking
    return message


counts = st.integers(min_value=-(2**70), max_value=2**70) | st.floats() | json_values
token_lines = st.builds(lambda text: {"message": _message(text), "done": False}, texts)
thinking_lines = st.builds(lambda text: {"message": _message("", text), "done": False}, texts)
wrong_type_lines = st.one_of(
    st.builds(lambda value: {"message": value, "done": False}, json_values),
    st.builds(lambda value: {"message": _message(value), "done": False}, json_values),
    st.builds(lambda value: {"message": _message("", value), "done": False}, json_values),
)
huge_lines = st.builds(
    lambda char, thinking: {"message": _message("", char * HUGE_FIELD) if thinking
                            else _message(char * HUGE_FIELD), "done": False},
    st.sampled_from(["x", "é", "🦙", "\ud800"]),
    st.booleans(),
)  # fmt: skip
error_lines = st.builds(lambda value: {"error": value}, json_values)
done_lines = st.fixed_dictionaries(
    {"message": st.just(_message("")), "done": st.just(True)},
    optional={
        "done_reason": json_values,
        "eval_count": counts,
        "prompt_eval_count": counts,
        "eval_duration": counts,
        "total_duration": counts,
    },
)
odd_done_lines = st.builds(lambda value: {"message": _message("x"), "done": value}, json_values)
json_lines = st.one_of(
    token_lines, token_lines, token_lines, thinking_lines, wrong_type_lines, huge_lines,
    error_lines, done_lines, odd_done_lines,
).map(encode)  # fmt: skip
raw_lines = st.one_of(
    st.binary(max_size=40).map(lambda b: b.replace(b"\n", b"") + b"\n"),
    st.sampled_from([b"\n", b"  \r\n", b"[]\n", b"null\n", b'"text"\n', b"{\n", b"\xff\xfe\n"]),
)
lines = json_lines | raw_lines


@st.composite
def streams(draw: st.DrawFn, max_lines: int = 12) -> RawChat:
    """A whole answer: some lines (often ending with `done`), cut anywhere, ended somehow."""
    body = draw(st.lists(lines, max_size=max_lines))
    if draw(st.booleans()):
        body.append(encode(draw(done_lines)))
    data = b"".join(body)
    if data and draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]  # closed early, mid-line perhaps
    cuts = sorted(draw(st.lists(st.integers(0, len(data)), max_size=8, unique=True)))
    pieces = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]
    return RawChat(pieces, end=draw(st.sampled_from(["close", "cut"])))


def check_one(app: Any, ws: Any, fake: Any, stream: RawChat) -> dict[str, Any]:
    """Drive one reply with `stream` and assert the contract; returns its final frame."""
    frames, stored = reply_to(app, ws, fake, stream)
    assert_stored_as_told(frames, stored)
    ws.send({"type": "ping"})
    assert ws.recv() == {"type": "pong"}  # and the app still answers
    return frames[-1]


@st.composite
def endless_lines(draw: st.DrawFn) -> RawChat:
    """Some lines, then one that passes the 4 MiB cap with no newline, then silence."""
    body = draw(st.lists(token_lines.map(encode), max_size=4))
    over = [b'{"message":{"content":"'] + [b"x" * 65536] * 66
    return RawChat([*body, *over], end="hang")
