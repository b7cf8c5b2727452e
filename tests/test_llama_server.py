"""A real OpenAI-compatible server through the whole app: llama.cpp's own server (from the
xllamacpp wheel, tests/llama_server_process.py) on loopback with a tiny random-weight llama
(tests/tiny_gguf.py), added as an endpoint over REST; a reply streams, stops, regenerates
and carries the server's stats.

Needs the `realserver` extra (`pip install -e ".[realserver]"`, as `.ci/venv` does); it is
skipped where xllamacpp is not installed."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.app_process import REPO
from tests.test_openai_app import Rest, state_of, ws  # noqa: F401  (a fixture)
from tests.tiny_gguf import CONTEXT
from tests.waiting import eventually
from tests.wsclient import WsClient

MODEL = "tiny-llama"

pytestmark = [
    pytest.mark.realserver,
    pytest.mark.skipif(
        not (importlib.util.find_spec("xllamacpp") and importlib.util.find_spec("gguf")),
        reason="needs the realserver extra: xllamacpp and gguf (bash .ci/run installs it)",
    ),
]


class LlamaServer:
    def __init__(self, url: str, log: Path) -> None:
        self.url, self.log = url, log

    def stopped_at(self) -> list[int]:
        """The tokens in context when each request ended (llama.cpp logs every release)."""
        return [
            int(n) for n in re.findall(r"stop processing: n_tokens = (\d+)", self.log.read_text())
        ]


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory) -> Iterator[LlamaServer]:
    """llama.cpp's server with the tiny model, in its own process."""
    folder = tmp_path_factory.mktemp("llama")
    log_path = folder / "server.log"
    args = [sys.executable, "-m", "tests.llama_server_process", str(folder), MODEL]
    with log_path.open("wb") as log:
        process = subprocess.Popen(args, cwd=REPO, stdout=subprocess.PIPE, stderr=log)
    try:
        line = process.stdout.readline().decode()  # "listening http://127.0.0.1:PORT"
        assert line.startswith("listening "), log_path.read_text()[-3000:]
        url = line.split()[1] + "/v1"
        assert requests.get(url + "/models", timeout=10).ok
        yield LlamaServer(url, log_path)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()


@pytest.fixture
def endpoint(runtime, llama_server: LlamaServer) -> dict:
    rest = Rest(runtime)
    fields = {"name": "llama.cpp", "kind": "openai", "base_url": llama_server.url}
    added = rest("POST", "endpoints", fields)
    assert added.status_code == 201, added.text
    endpoint = added.json()
    assert eventually(lambda: state_of(rest, endpoint["id"]) == "connected", within=20)
    return endpoint


def send(client: WsClient, endpoint_id: str, **extra) -> None:
    client.send({"type": "chat.send", "request_id": "r", "conversation_id": None,
             "content": "hello world", "model": MODEL, "endpoint_id": endpoint_id,
             **extra})  # fmt: skip


def test_its_model_is_listed_under_its_endpoint(runtime, endpoint: dict) -> None:
    models = Rest(runtime)("GET", "models").json()["models"]
    assert [m["name"] for m in models if m["endpoint_id"] == endpoint["id"]] == [MODEL]


def test_a_reply_streams_with_the_servers_stats(
    runtime,
    ws: WsClient,  # noqa: F811  (the fixture imported above)
    endpoint: dict,
) -> None:
    send(ws, endpoint["id"], options={"num_predict": 40})
    frames = ws.reply(timeout=60)
    start, complete = frames[0], frames[-1]
    assert start["type"] == "start" and start["model"] == MODEL
    assert start["context"]["num_ctx"] == CONTEXT  # the window llama.cpp's /props gives
    assert complete["type"] == "complete", complete
    chunks = [f for f in frames if f["type"] == "chunk"]
    assert len(chunks) >= 1 and complete["content"]
    assert "".join(f["delta"] for f in chunks) == complete["content"]
    stats = complete["stats"]
    assert stats["eval_count"] == 40  # the server's usage: the reply ran to max_tokens
    assert stats["prompt_eval_count"] > 0
    assert stats["eval_duration_ms"] is not None and stats["total_duration_ms"] > 0
    conversation = Rest(runtime)("GET", f"conversations/{start['conversation_id']}").json()
    assert (conversation["endpoint_id"], conversation["model"]) == (endpoint["id"], MODEL)


def test_stop_ends_the_reply_and_regenerate_answers_again(
    runtime,
    ws: WsClient,  # noqa: F811  (the fixture imported above)
    endpoint: dict,
    llama_server: LlamaServer,
) -> None:
    ended = len(llama_server.stopped_at())
    # Far longer than the time a cancel takes to arrive (~4,000 tokens/s here).
    send(ws, endpoint["id"], options={"num_predict": CONTEXT - 100})
    first = ws.recv_until(lambda f: f["type"] == "chunk", timeout=60)
    ws.send({"type": "chat.cancel", "message_id": first[-1]["message_id"]})
    frames = ws.reply(timeout=60)
    assert frames[-1]["type"] == "cancelled" and frames[-1]["content"]
    # Closing the request stopped the model: it released its slot long before max_tokens.
    assert eventually(lambda: len(llama_server.stopped_at()) > ended)
    assert llama_server.stopped_at()[ended] < CONTEXT - 100

    ws.send({"type": "chat.regenerate", "request_id": "g", "message_id": frames[-1]["message_id"],
             "options": {"num_predict": 20}})  # fmt: skip
    again = ws.reply(timeout=60)
    assert again[-1]["type"] == "complete" and again[-1]["content"]
    assert again[-1]["stats"]["eval_count"] == 20
    start = next(f for f in first if f["type"] == "start")
    conversation = Rest(runtime)("GET", f"conversations/{start['conversation_id']}").json()
    replies = {m["id"]: m for m in conversation["messages"] if m["role"] == "assistant"}
    assert again[-1]["message_id"] in replies  # the regenerated reply is the one shown
    # The server is still there and answering after a stream was cut.
    assert state_of(Rest(runtime), endpoint["id"]) == "connected"
