"""OpenAIClient against a real FakeOpenAI on a loopback port: every quirk and fault."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from backend.core.providers.base import ChatDone, ContentDelta, ThinkingDelta
from backend.core.providers.openai import (
    EndpointError,
    EndpointProtocolError,
    EndpointStreamError,
    EndpointUnavailable,
    OpenAIClient,
)
from tests.fake_openai import DEFAULT_TOKENS, STREAM_ERROR, FakeOpenAI
from tests.test_ollama_client import (
    closed_after_first_token,
    consume_in_thread,
    events_before,
    texts,
)
from tests.waiting import eventually

ASK = [{"role": "user", "content": "Why is the sky blue?"}]
TRANSCRIPT = Path("/work/shared/ollama-wire/openai_stream.sse")
THOUGHTS = ["The user", " asks about", " the sky."]


FAKE_SERVER = FakeOpenAI  # the shared `fake` fixture (conftest.py) serves this one


@pytest.fixture
def client(fake: FakeOpenAI) -> Iterator[OpenAIClient]:
    openai = OpenAIClient(fake.url + "/v1/")
    yield openai
    openai.close()


def joined(events: list, kind: type = ContentDelta) -> str:
    """The text of a kind of delta (a read's text comes as one delta)."""
    return "".join(texts(events, kind))


def reply(client: OpenAIClient, model: str = "llama3.2") -> list:
    with client.chat_stream(model, ASK) as stream:
        return list(stream)


def done_of(events: list) -> ChatDone:
    assert isinstance(events[-1], ChatDone)
    assert not any(isinstance(e, ChatDone) for e in events[:-1])
    return events[-1]


@pytest.mark.skipif(not TRANSCRIPT.exists(), reason="the shared wire transcripts are absent")
def test_the_fake_speaks_the_transcript(fake: FakeOpenAI) -> None:
    body = {"model": "llama3.2", "messages": ASK, "stream": True}
    body["stream_options"] = {"include_usage": True}
    sent = requests.post(fake.url + "/v1/chat/completions", json=body, timeout=5).content
    pinned = re.sub(rb'"created":\d+', b'"created":1762178533', sent)
    assert pinned == TRANSCRIPT.read_bytes()


def test_models_and_the_base_url_with_or_without_v1(fake: FakeOpenAI) -> None:
    for base in (fake.url, fake.url + "/v1", fake.url + "/v1/"):
        models = OpenAIClient(base).list_models()
        assert [m.name for m in models] == ["llama3.2", "qwen3:8b"]
    assert models[0].modified_at == "2025-11-03T14:02:13Z"
    assert models[0].details == {"owned_by": "library"}
    assert OpenAIClient(fake.url).version() == ""


def test_stream_gives_the_reply_then_stats_from_usage(
    fake: FakeOpenAI, client: OpenAIClient
) -> None:
    events = reply(client)
    assert joined(events) == "".join(DEFAULT_TOKENS)
    stats = done_of(events).stats()
    assert done_of(events).done_reason == "stop"
    assert stats["eval_count"] == len(DEFAULT_TOKENS) and stats["prompt_eval_count"] == 31
    assert stats["total_duration_ms"] > 0 and stats["eval_duration_ms"] > 0
    assert stats["tokens_per_second"] > 0
    assert stats["load_duration_ms"] is None and stats["prompt_eval_duration_ms"] is None
    sent = fake.chat_requests[0]
    assert sent["stream"] is True and sent["stream_options"] == {"include_usage": True}
    assert sent["messages"] == ASK and sent["model"] == "llama3.2"


def test_llama_cpp_timings_give_the_speed(fake: FakeOpenAI, client: OpenAIClient) -> None:
    fake.timings = True
    stats = done_of(reply(client)).stats()
    assert stats["eval_duration_ms"] == 250.0 and stats["prompt_eval_duration_ms"] == 62.0
    assert stats["tokens_per_second"] == round(len(DEFAULT_TOKENS) / 0.25, 2)


def test_refused_stream_options_are_dropped_and_stats_are_null(
    fake: FakeOpenAI, client: OpenAIClient
) -> None:
    fake.usage_support = False
    for _ in range(2):
        events = reply(client)
        assert joined(events) == "".join(DEFAULT_TOKENS)
        stats = done_of(events).stats()
        assert stats["eval_count"] is None and stats["prompt_eval_count"] is None
        assert stats["tokens_per_second"] is None and stats["total_duration_ms"] > 0
    asked = ["stream_options" in r for r in fake.chat_requests]
    assert asked == [True, False, False]  # refused once, then never asked again


@pytest.mark.parametrize("style", ["reasoning", "reasoning_content", "think_tags"])
def test_every_reasoning_style_is_thinking(
    style: str, fake: FakeOpenAI, client: OpenAIClient
) -> None:
    fake.reasoning_style, fake.thinking = style, list(THOUGHTS)
    fake.split_events = style == "think_tags"  # the tags cut across reads as well
    events = reply(client)
    assert joined(events, ThinkingDelta) == "".join(THOUGHTS)
    assert joined(events) == "".join(DEFAULT_TOKENS)
    last_thought = max(i for i, e in enumerate(events) if isinstance(e, ThinkingDelta))
    first_text = min(i for i, e in enumerate(events) if isinstance(e, ContentDelta))
    assert last_thought < first_text


@pytest.mark.parametrize(
    "quirk", ["keepalives", "split_events", "multiline_data", "crlf", "tool_call", "omit_done"]
)
def test_quirks_do_not_change_the_reply(quirk: str, fake: FakeOpenAI, client: OpenAIClient) -> None:
    setattr(fake, quirk, True)
    events = reply(client)
    assert joined(events) == "".join(DEFAULT_TOKENS)
    assert done_of(events).eval_count == len(DEFAULT_TOKENS)


def test_batches_follow_the_reads(fake: FakeOpenAI, client: OpenAIClient) -> None:
    fake.batch = 8  # events per HTTP chunk, so per read
    with client.chat_stream("llama3.2", ASK) as stream:
        batches = list(stream.batches())
    assert all(batches) and isinstance(batches[-1][-1], ChatDone)
    assert len(batches) <= 4  # 22 tokens in 8s, the last read with the ending
    flat = [e for batch in batches for e in batch]
    assert joined(flat) == "".join(DEFAULT_TOKENS)


def test_api_key_is_sent_as_bearer_and_never_shown(fake: FakeOpenAI) -> None:
    fake.api_key = "sk-secret-123"
    with pytest.raises(EndpointError) as refused:
        OpenAIClient(fake.url).list_models()
    assert refused.value.status == 401 and refused.value.code == "endpoint_unauthorized"
    keyed = OpenAIClient(fake.url, api_key="sk-secret-123")
    assert "sk-secret" not in repr(keyed)
    assert [m.name for m in keyed.list_models()] == ["llama3.2", "qwen3:8b"]
    assert joined(reply(keyed)) == "".join(DEFAULT_TOKENS)
    assert fake.requests[-1]["headers"]["authorization"] == "Bearer sk-secret-123"


def test_unknown_model_is_model_not_found(client: OpenAIClient) -> None:
    with pytest.raises(EndpointError) as missing:
        reply(client, model="nope:1b")
    assert missing.value.code == "model_not_found" and missing.value.status == 404
    assert "nope:1b" in missing.value.message


def test_http_error_carries_the_servers_message(fake: FakeOpenAI, client: OpenAIClient) -> None:
    fake.http_error = (503, "Loading model")
    with pytest.raises(EndpointError, match="^Loading model$") as busy:
        reply(client)
    assert busy.value.status == 503


def test_error_mid_stream_comes_after_the_partial_reply(
    fake: FakeOpenAI, client: OpenAIClient
) -> None:
    fake.error_after = 3
    received = events_before(EndpointStreamError, STREAM_ERROR, client.chat_stream("llama3.2", ASK))
    assert joined(received) == "".join(DEFAULT_TOKENS[:3])


def test_cut_socket_is_unavailable(fake: FakeOpenAI, client: OpenAIClient) -> None:
    fake.cut_after = 4
    received = events_before(EndpointUnavailable, "was lost", client.chat_stream("llama3.2", ASK))
    assert joined(received) == "".join(DEFAULT_TOKENS[:4])


def test_refused_when_the_server_is_down() -> None:
    with FakeOpenAI() as gone:
        url = gone.url
    with pytest.raises(EndpointUnavailable, match=f"isn't running at {url}$"):
        OpenAIClient(url).list_models()
    with pytest.raises(EndpointUnavailable):
        reply(OpenAIClient(url))


def test_close_tells_the_server_to_stop(fake: FakeOpenAI, client: OpenAIClient) -> None:
    closed_after_first_token(fake, client)


def test_abort_ends_a_slow_first_token(fake: FakeOpenAI, client: OpenAIClient) -> None:
    fake.first_token_delay = 60.0
    stream = client.chat_stream("llama3.2", ASK)
    thread, received = consume_in_thread(stream)
    assert eventually(lambda: len(fake.chat_requests) == 1)
    stream.abort()
    thread.join(timeout=5)
    assert not thread.is_alive() and received == [] and stream.aborted
    assert eventually(lambda: fake.aborted_streams == 1)


def test_read_timeout_is_unavailable(fake: FakeOpenAI) -> None:
    fake.first_token_delay = 5.0
    with pytest.raises(EndpointUnavailable, match="sent nothing for 0.2 s"):
        reply(OpenAIClient(fake.url, read_timeout=0.2))


def test_options_map_to_openai_fields(fake: FakeOpenAI, client: OpenAIClient) -> None:
    options = {"temperature": 0.2, "num_predict": 64, "num_ctx": 8192, "top_k": 5, "seed": 7}
    with client.chat_stream("llama3.2", ASK, options) as stream:
        list(stream)
    sent = fake.chat_requests[0]
    assert (sent["temperature"], sent["max_tokens"], sent["seed"]) == (0.2, 64, 7)
    assert "num_ctx" not in sent and "top_k" not in sent and "options" not in sent


def test_context_window_from_vllm_then_llama_cpp_then_lm_studio_then_none(
    fake: FakeOpenAI, client: OpenAIClient
) -> None:
    assert client.context_window("qwen3:8b") is None
    fake.loaded_context = 8192
    assert client.context_window("qwen3:8b") == 8192
    assert fake.requests[-1]["path"] == "/api/v0/models/qwen3%3A8b"
    fake.props_n_ctx = 4096
    assert client.context_window("llama3.2") == 4096
    fake.max_model_len = 32768
    assert client.context_window("llama3.2") == 32768


def test_whole_reply_drops_the_think_block(fake: FakeOpenAI, client: OpenAIClient) -> None:
    fake.thinking, fake.tokens = ["pondering"], ["Sky", " colour"]
    assert client.chat("llama3.2", ASK) == "Sky colour"
    assert "stream" not in fake.chat_requests[0]
    # Titles ask every provider not to think; OpenAI's API has no such field to send.
    assert client.chat("llama3.2", ASK, think=False) == "Sky colour"
    assert "think" not in fake.chat_requests[1]


def test_a_broken_event_is_a_protocol_error(fake: FakeOpenAI, client: OpenAIClient) -> None:
    fake.raw_stream = b"data: {not json}\n\n"
    with pytest.raises(EndpointProtocolError, match="broken event"):
        reply(client)


def test_a_stream_that_stops_unfinished_is_a_protocol_error(
    fake: FakeOpenAI, client: OpenAIClient
) -> None:
    fake.raw_stream = b'data: {"choices":[{"index":0,"delta":{"content":"Hi"}}]}\n\n'
    received = events_before(
        EndpointProtocolError, "ended before", client.chat_stream("llama3.2", ASK)
    )
    assert received == [ContentDelta("Hi")]
