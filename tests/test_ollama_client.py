"""OllamaClient against a real FakeOllama on a loopback port: events, errors, aborts."""

from __future__ import annotations

import gc
import socket
import threading
from collections.abc import Iterable, Iterator

import pytest

from backend.core.providers.base import ChatDone, ContentDelta, ThinkingDelta
from backend.core.providers.ollama import (
    OllamaClient,
    OllamaError,
    OllamaProtocolError,
    OllamaStreamError,
    OllamaUnavailable,
)
from tests.fake_ollama import DEFAULT_TOKENS, STREAM_ERROR, FakeOllama
from tests.waiting import eventually

ASK = [{"role": "user", "content": "Why is the sky blue?"}]


@pytest.fixture
def client(fake: FakeOllama) -> Iterator[OllamaClient]:
    ollama = OllamaClient(fake.url + "/")
    yield ollama
    ollama.close()


def events_before(error: type[Exception], match: str, stream: Iterable) -> list:
    """What a stream gave before it raised `error` (the test fails if it never does)."""
    received: list = []
    with pytest.raises(error, match=match):
        for event in stream:
            received.append(event)
    return received


def texts(events: list, kind: type) -> list[str]:
    return [e.text for e in events if isinstance(e, kind)]


def test_version_strips_the_trailing_slash(fake: FakeOllama, client: OllamaClient) -> None:
    fake.version = "0.9.1"
    assert client.base_url == fake.url
    assert client.version() == "0.9.1"
    assert client.version(timeout=1.0) == "0.9.1"


def test_list_models_gives_typed_models(client: OllamaClient) -> None:
    models = client.list_models()
    assert [m.name for m in models] == [
        "qwen3:8b",
        "deepseek-r1:latest",
        "llama3.2:latest",
        "all-minilm:latest",
    ]
    llama = models[2]
    assert llama.size == 2019393189
    assert llama.modified_at == "2025-05-04T17:37:44.706015396-07:00"
    assert llama.digest.startswith("a80c4f17")
    assert llama.details["parameter_size"] == "3.2B"


def test_stream_yields_every_token_then_done(client: OllamaClient) -> None:
    events = list(client.chat_stream("llama3.2", ASK))
    assert texts(events, ContentDelta) == DEFAULT_TOKENS
    assert all(isinstance(e, ContentDelta) for e in events[:-1])
    done = events[-1]
    assert isinstance(done, ChatDone)
    assert done.done_reason == "stop"
    assert done.eval_count == len(DEFAULT_TOKENS)
    assert done.prompt_eval_count == 36
    assert done.eval_duration == 762797000
    assert done.load_duration == 1532417291
    assert done.stats()["tokens_per_second"] == pytest.approx(83.9, abs=0.1)


def test_long_stream_keeps_order(fake: FakeOllama, client: OllamaClient) -> None:
    fake.token_count = 3000
    events = list(client.chat_stream("llama3.2", ASK))
    assert texts(events, ContentDelta) == [f"tok{i} " for i in range(3000)]
    assert events[-1].eval_count == 3000


def test_thinking_comes_before_content(fake: FakeOllama, client: OllamaClient) -> None:
    fake.thinking = ["Okay", ", 17 × 23"]
    fake.tokens = ["391", " <b>"]
    events = list(client.chat_stream("qwen3:8b", ASK, think=True))
    assert events[:4] == [
        ThinkingDelta("Okay"),
        ThinkingDelta(", 17 × 23"),
        ContentDelta("391"),
        ContentDelta(" <b>"),
    ]
    assert isinstance(events[4], ChatDone)
    assert fake.chat_requests[-1]["think"] is True


def test_lines_without_text_yield_nothing(fake: FakeOllama, client: OllamaClient) -> None:
    fake.tokens = ["", "x", ""]
    events = list(client.chat_stream("llama3.2", ASK))
    assert events[0] == ContentDelta("x")
    assert len(events) == 2


def test_request_body(fake: FakeOllama, client: OllamaClient) -> None:
    list(client.chat_stream("llama3.2", ASK, {"temperature": 0.2, "num_ctx": 4096}))
    assert fake.chat_requests == [
        {
            "model": "llama3.2",
            "messages": ASK,
            "stream": True,
            "options": {"temperature": 0.2, "num_ctx": 4096},
        }
    ]
    assert fake.requests[-1]["method"] == "POST"


def test_the_request_waits_for_the_first_next(fake: FakeOllama, client: OllamaClient) -> None:
    stream = client.chat_stream("llama3.2", ASK)
    assert fake.chat_requests == []
    assert next(stream) == ContentDelta("The")
    assert len(fake.chat_requests) == 1
    stream.close()


def test_non_streamed_chat(fake: FakeOllama, client: OllamaClient) -> None:
    assert client.chat("llama3.2", ASK) == "".join(DEFAULT_TOKENS)
    assert fake.chat_requests[-1]["stream"] is False


def test_refused_when_ollama_is_down() -> None:
    fake = FakeOllama().start()
    client = OllamaClient(fake.url)
    assert client.version() == "0.13.0"  # leaves a pooled keep-alive connection behind
    fake.stop()
    with pytest.raises(OllamaUnavailable, match=f"Ollama isn't running at {fake.url}$"):
        client.version()
    with pytest.raises(OllamaUnavailable, match="isn't running"):
        next(client.chat_stream("llama3.2", ASK))
    with pytest.raises(OllamaUnavailable):
        client.list_models()
    fake.start()  # the same port again
    try:
        assert client.version() == "0.13.0"
    finally:
        fake.stop()


def test_unknown_model_is_model_not_found(client: OllamaClient) -> None:
    with pytest.raises(OllamaError) as caught:
        next(client.chat_stream("nope", ASK))
    assert caught.value.status == 404
    assert caught.value.code == "model_not_found"
    assert caught.value.message == "model 'nope' not found"


@pytest.mark.parametrize(
    ("status", "code"),
    [(400, "ollama_bad_request"), (500, "ollama_error"), (503, "ollama_busy")],
)
def test_http_errors_carry_status_and_message(
    fake: FakeOllama, client: OllamaClient, status: int, code: str
) -> None:
    fake.http_error = (status, "something <went> wrong")
    with pytest.raises(OllamaError) as caught:
        list(client.chat_stream("llama3.2", ASK))
    assert (caught.value.status, caught.value.code) == (status, code)
    assert caught.value.message == "something <went> wrong"


def test_error_mid_stream_comes_after_the_partial_reply(
    fake: FakeOllama, client: OllamaClient
) -> None:
    fake.error_after = 9
    received = events_before(OllamaStreamError, STREAM_ERROR, client.chat_stream("llama3.2", ASK))
    assert texts(received, ContentDelta) == DEFAULT_TOKENS[:9]


def test_cut_socket_is_unavailable(fake: FakeOllama, client: OllamaClient) -> None:
    fake.cut_after = 3
    received = events_before(OllamaUnavailable, "was lost", client.chat_stream("llama3.2", ASK))
    assert texts(received, ContentDelta) == DEFAULT_TOKENS[:3]


def test_malformed_line_is_a_protocol_error(fake: FakeOllama, client: OllamaClient) -> None:
    fake.malformed_after = 2
    received = events_before(
        OllamaProtocolError, "not a JSON object", client.chat_stream("llama3.2", ASK)
    )
    assert len(received) == 2


def test_stream_without_done_is_a_protocol_error(fake: FakeOllama, client: OllamaClient) -> None:
    fake.omit_done = True
    received = events_before(
        OllamaProtocolError, "without its final", client.chat_stream("llama3.2", ASK)
    )
    assert texts(received, ContentDelta) == DEFAULT_TOKENS


def test_read_timeout_is_unavailable(fake: FakeOllama) -> None:
    fake.first_token_delay = 5.0
    client = OllamaClient(fake.url, read_timeout=0.2)
    with pytest.raises(OllamaUnavailable, match="sent nothing for 0.2 s"):
        next(client.chat_stream("llama3.2", ASK))


def closed_after_first_token(fake, client) -> Iterator:
    """A slow reply closed after its first token, once the fake server has seen it stop."""
    fake.token_delay = 0.05
    stream = client.chat_stream("llama3.2", ASK)
    assert next(stream) == ContentDelta("The")
    stream.close()
    assert eventually(lambda: fake.aborted_streams == 1)
    return stream


def test_close_tells_ollama_to_stop(fake: FakeOllama, client: OllamaClient) -> None:
    stream = closed_after_first_token(fake, client)
    with pytest.raises(StopIteration):
        next(stream)


def test_leaving_with_or_dropping_the_stream_closes_it(
    fake: FakeOllama, client: OllamaClient
) -> None:
    fake.token_delay = 0.05
    with client.chat_stream("llama3.2", ASK) as stream:
        next(stream)
    assert eventually(lambda: fake.aborted_streams == 1)
    dropped = client.chat_stream("llama3.2", ASK)
    next(dropped)
    del dropped
    gc.collect()
    assert eventually(lambda: fake.aborted_streams == 2)


def consume_in_thread(stream: Iterator) -> tuple[threading.Thread, list]:
    received: list = []
    thread = threading.Thread(target=lambda: received.extend(stream), daemon=True)
    thread.start()
    return thread, received


def test_abort_from_another_thread_ends_a_stuck_stream(
    fake: FakeOllama, client: OllamaClient
) -> None:
    fake.token_delay = 60.0
    stream = client.chat_stream("llama3.2", ASK)
    assert next(stream) == ContentDelta("The")
    thread, received = consume_in_thread(stream)
    stream.abort()
    thread.join(timeout=5)
    assert not thread.is_alive()
    assert received == []
    assert stream.aborted
    assert eventually(lambda: fake.aborted_streams == 1)


def test_abort_before_the_first_next_sends_nothing(fake: FakeOllama, client: OllamaClient) -> None:
    stream = client.chat_stream("llama3.2", ASK)
    stream.abort()
    assert list(stream) == []
    assert fake.chat_requests == []


def test_abort_while_waiting_for_headers() -> None:
    """Ollama sends no headers while it loads a model: abort must still end the wait."""
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts, never answers
        client = OllamaClient(f"http://127.0.0.1:{silent.getsockname()[1]}")
        stream = client.chat_stream("llama3.2", ASK)
        thread, received = consume_in_thread(stream)
        conn, _ = silent.accept()
        with conn:
            stream.abort()
            thread.join(timeout=5)
        assert not thread.is_alive()
        assert received == []


def test_show_answers_model_info(client: OllamaClient) -> None:
    info = client.show("llama3.2")
    assert info["model_info"]["llama.context_length"] == 131072
    assert info["details"]["family"] == "llama"
    with pytest.raises(OllamaError) as caught:
        client.show("nope")
    assert caught.value.status == 404


def test_pull_streams_progress_and_installs(fake: FakeOllama, client: OllamaClient) -> None:
    fake.pull_lines = [
        {"status": "pulling manifest"},
        {"status": "pulling aaa", "digest": "sha256:aaa", "total": 10, "completed": 4},
        {"status": "success"},
    ]
    assert list(client.pull("mistral")) == fake.pull_lines
    assert "mistral:latest" in [m.name for m in client.list_models()]


def test_pull_error_mid_stream(client: OllamaClient) -> None:
    received = events_before(OllamaStreamError, "file does not exist", client.pull("no-such-model"))
    assert received == [{"status": "pulling manifest"}]


def test_delete(client: OllamaClient) -> None:
    client.delete("llama3.2")
    assert "llama3.2:latest" not in [m.name for m in client.list_models()]
    with pytest.raises(OllamaError) as caught:
        client.delete("llama3.2")
    assert caught.value.code == "model_not_found"
