"""An OpenAI-compatible endpoint through the whole app: REST /api/endpoints, /api/models,
and chats over a real WebSocket on a real server thread against a real FakeOpenAI."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from tests.fake_ollama import DEFAULT_TOKENS as OLLAMA_TOKENS
from tests.fake_openai import DEFAULT_TOKENS, FakeOpenAI
from tests.waiting import eventually
from tests.wsclient import WsClient

KEY = "sk-local-7d1e"


class Rest:
    def __init__(self, runtime) -> None:
        self.base = runtime.url + "api/"
        self.headers = {"Authorization": f"Bearer {runtime.token}"}

    def __call__(self, method: str, path: str, body: object = None) -> requests.Response:
        return requests.request(
            method, self.base + path, json=body, headers=self.headers, timeout=10
        )


def state_of(rest: Rest, endpoint_id: str) -> str:
    return rest("GET", f"endpoints/{endpoint_id}").json()["status"]["state"]


@pytest.fixture
def rest(runtime) -> Rest:
    return Rest(runtime)


@pytest.fixture
def lm_studio() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        fake.api_key = KEY
        yield fake


@pytest.fixture
def endpoint(rest: Rest, lm_studio: FakeOpenAI) -> dict:
    fields = {"name": "LM Studio", "kind": "openai", "base_url": lm_studio.url + "/v1"}
    added = rest("POST", "endpoints", {**fields, "api_key": KEY})
    assert added.status_code == 201
    endpoint = added.json()
    assert eventually(lambda: state_of(rest, endpoint["id"]) == "connected", within=10)
    return endpoint


@pytest.fixture
def ws(runtime) -> Iterator[WsClient]:
    client = WsClient(runtime.url.replace("http://", "ws://") + f"ws?token={runtime.token}")
    yield client
    client.close()


def send(ws: WsClient, endpoint_id: str | None, conversation_id: str | None = None, **extra):
    frame = {"type": "chat.send", "request_id": "r", "conversation_id": conversation_id,
             "content": "Why is the sky blue?", **extra}  # fmt: skip
    if endpoint_id is not None:
        frame["endpoint_id"] = endpoint_id
    ws.send(frame)
    return ws.reply()


def test_endpoints_over_rest_never_show_the_key(rest: Rest, endpoint: dict) -> None:
    assert endpoint["has_key"] is True and endpoint["kind"] == "openai"
    listed = rest("GET", "endpoints")
    assert [e["id"] for e in listed.json()["endpoints"]] == ["ollama", endpoint["id"]]
    assert listed.json()["endpoints"][0]["status"]["state"] in ("connecting", "connected")
    assert KEY not in listed.text
    changed = rest("PATCH", f"endpoints/{endpoint['id']}", {"name": "LM Studio (desk)"})
    assert changed.status_code == 200 and changed.json()["name"] == "LM Studio (desk)"
    assert KEY not in changed.text
    connect = rest("POST", f"endpoints/{endpoint['id']}/connect")
    assert connect.json()["status"]["state"] == "connected"
    assert rest("DELETE", f"endpoints/{endpoint['id']}").status_code == 204
    assert rest("GET", f"endpoints/{endpoint['id']}").json()["error"]["code"] == "not_found"
    assert rest("DELETE", "endpoints/ollama").status_code == 400


def test_presets_over_rest(rest: Rest) -> None:
    presets = rest("GET", "endpoints/presets").json()["presets"]
    assert [p["name"] for p in presets][:4] == ["LM Studio", "llama.cpp", "vLLM", "Jan"]
    assert all(isinstance(p["running"], bool) and p["kind"] == "openai" for p in presets)


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x", "kind": "openai", "base_url": "localhost:1234"},
        {"name": "x", "kind": "openai", "base_url": "http://"},
        {"name": "x", "kind": "cohere", "base_url": "http://127.0.0.1:1234"},
        {"name": "x", "kind": "openai"},
    ],
)
def test_a_bad_url_or_kind_is_400(rest: Rest, body: dict) -> None:
    answer = rest("POST", "endpoints", body)
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "bad_endpoint"
    assert [e["id"] for e in rest("GET", "endpoints").json()["endpoints"]] == ["ollama"]


def test_models_of_every_endpoint_name_their_endpoint(rest: Rest, endpoint: dict) -> None:
    models = rest("GET", "models").json()["models"]
    ours = [m["name"] for m in models if m["endpoint_id"] == endpoint["id"]]
    assert ours == ["llama3.2", "qwen3:8b"]
    assert any(m["endpoint_id"] == "ollama" for m in models)


def test_a_chat_streams_with_stats_and_the_conversation_remembers(
    ws: WsClient, rest: Rest, endpoint: dict, lm_studio: FakeOpenAI
) -> None:
    frames = send(ws, endpoint["id"], model="qwen3:8b")
    start, complete = frames[0], frames[-1]
    assert start["type"] == "start" and start["model"] == "qwen3:8b"
    assert complete["type"] == "complete" and complete["content"] == "".join(DEFAULT_TOKENS)
    assert "".join(f["delta"] for f in frames if f["type"] == "chunk") == complete["content"]
    assert [f["seq"] for f in frames] == list(range(len(frames)))
    stats = complete["stats"]
    assert stats["eval_count"] == len(DEFAULT_TOKENS) and stats["prompt_eval_count"] == 31
    assert stats["load_duration_ms"] is None
    assert lm_studio.requests[-1]["headers"]["authorization"] == f"Bearer {KEY}"
    conversation = rest("GET", f"conversations/{start['conversation_id']}").json()
    assert (conversation["endpoint_id"], conversation["model"]) == (endpoint["id"], "qwen3:8b")
    assert conversation["messages"][-1]["stats"]["eval_count"] == len(DEFAULT_TOKENS)
    # The next message names neither endpoint nor model: the conversation's are used.
    again = send(ws, None, start["conversation_id"])
    assert again[-1]["type"] == "complete" and len(lm_studio.chat_requests) == 2
    assert lm_studio.chat_requests[-1]["model"] == "qwen3:8b"
    assert len(lm_studio.chat_requests[-1]["messages"]) == 3  # the history went along


def test_thinking_streams_as_thinking(ws: WsClient, endpoint: dict, lm_studio) -> None:
    lm_studio.thinking, lm_studio.reasoning_style = ["Rayleigh", " scattering?"], "think_tags"
    frames = send(ws, endpoint["id"], model="llama3.2")
    thinking = "".join(f.get("thinking", "") for f in frames if f["type"] == "chunk")
    assert thinking == "Rayleigh scattering?"
    assert frames[-1]["content"] == "".join(DEFAULT_TOKENS)
    assert frames[-1]["stats"]["thinking_ms"] is not None


def test_stop_closes_the_request(ws: WsClient, endpoint: dict, lm_studio: FakeOpenAI) -> None:
    lm_studio.token_delay = 0.05
    ws.send({"type": "chat.send", "request_id": "r", "conversation_id": None,
             "content": "Tell me", "model": "llama3.2", "endpoint_id": endpoint["id"]})  # fmt: skip
    first = ws.recv_until(lambda f: f["type"] == "chunk")
    ws.send({"type": "chat.cancel", "message_id": first[-1]["message_id"]})
    frames = ws.reply()
    assert frames[-1]["type"] == "cancelled"
    assert eventually(lambda: lm_studio.aborted_streams == 1)


def test_regenerate_uses_the_conversations_endpoint(
    ws: WsClient, endpoint: dict, lm_studio: FakeOpenAI
) -> None:
    first = send(ws, endpoint["id"], model="llama3.2")
    lm_studio.tokens = ["Another", " answer."]
    ws.send({"type": "chat.regenerate", "request_id": "g", "message_id": first[-1]["message_id"]})
    again = ws.reply()
    assert again[-1]["type"] == "complete" and again[-1]["content"] == "Another answer."
    assert len(lm_studio.chat_requests) == 2


def test_a_server_error_mid_stream_ends_the_reply_with_its_text(
    ws: WsClient, endpoint: dict, lm_studio: FakeOpenAI
) -> None:
    lm_studio.error_after = 5
    frames = send(ws, endpoint["id"], model="llama3.2")
    assert frames[-1]["type"] == "error" and frames[-1]["code"] == "endpoint_stream_error"
    assert frames[-1]["content"] == "".join(DEFAULT_TOKENS[:5])


def test_ollama_stays_the_default(ws: WsClient, endpoint: dict, lm_studio) -> None:
    frames = send(ws, None, model="llama3.2")
    assert frames[-1]["content"] == "".join(OLLAMA_TOKENS) and lm_studio.chat_requests == []


def test_the_context_window_comes_from_the_server(
    ws: WsClient, endpoint: dict, lm_studio: FakeOpenAI
) -> None:
    lm_studio.props_n_ctx = 300  # llama.cpp started with a tiny window
    first = send(ws, endpoint["id"], model="llama3.2", content="x" * 400)
    second = send(ws, endpoint["id"], first[0]["conversation_id"], content="y" * 400)
    assert second[0]["context"] == {"num_ctx": 300, "dropped": 2}
    assert len(lm_studio.chat_requests[-1]["messages"]) == 1


def test_without_a_window_from_the_server_the_setting_is_used(
    ws: WsClient, rest: Rest, endpoint: dict
) -> None:
    assert send(ws, endpoint["id"], model="llama3.2")[0]["context"]["num_ctx"] == 4096
    assert rest("PATCH", "settings", {"context_window": 1024}).status_code == 200
    assert send(ws, endpoint["id"], model="llama3.2")[0]["context"]["num_ctx"] == 1024


def test_endpoint_status_reaches_subscribed_sockets(
    ws: WsClient, rest: Rest, lm_studio: FakeOpenAI
) -> None:
    ws.send({"type": "subscribe", "events": ["endpoints"]})
    fields = {"name": "llama.cpp", "kind": "openai", "base_url": lm_studio.url}
    endpoint_id = rest("POST", "endpoints", fields).json()["id"]  # no key: refused, 401
    frames = ws.recv_until(
        lambda f: f["type"] == "endpoint.status" and f.get("state") == "error", timeout=10
    )
    assert all(f["endpoint_id"] == endpoint_id for f in frames if f["type"] == "endpoint.status")
    assert any(f["type"] == "endpoint.changed" for f in frames)


def test_an_unknown_endpoint_is_refused_and_a_removed_one_falls_back_to_ollama(
    ws: WsClient, rest: Rest, endpoint: dict
) -> None:
    ws.send({"type": "chat.send", "request_id": "u", "conversation_id": None,
             "content": "hi", "endpoint_id": "ep_gone"})  # fmt: skip
    refused = ws.recv()
    assert refused["type"] == "error" and refused["code"] == "endpoint_not_found"
    first = send(ws, endpoint["id"], model="llama3.2")
    assert rest("DELETE", f"endpoints/{endpoint['id']}").status_code == 204
    again = send(ws, None, first[0]["conversation_id"])
    assert again[-1]["type"] == "complete" and again[-1]["content"] == "".join(OLLAMA_TOKENS)
    conversation = rest("GET", f"conversations/{first[0]['conversation_id']}").json()
    assert conversation["endpoint_id"] == "ollama"


def test_a_cut_connection_keeps_the_text_and_a_server_gone_leaves_the_model_list(
    ws: WsClient, rest: Rest, endpoint: dict, lm_studio: FakeOpenAI
) -> None:
    lm_studio.cut_after = 6
    frames = send(ws, endpoint["id"], model="llama3.2")
    error = frames[-1]
    assert error["type"] == "error" and error["code"] == "endpoint_unavailable"
    assert error["content"] == "".join(DEFAULT_TOKENS[:6])
    stored = rest("GET", f"conversations/{frames[0]['conversation_id']}").json()["messages"][-1]
    assert (stored["status"], stored["content"]) == ("error", error["content"])
    lm_studio.stop()
    checked = rest("POST", f"endpoints/{endpoint['id']}/connect").json()["status"]
    assert checked["state"] in ("disconnected", "reconnecting")
    models = rest("GET", "models").json()["models"]
    assert models and all(m["endpoint_id"] == "ollama" for m in models)
