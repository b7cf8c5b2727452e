"""The REST API of the contract, over a real server thread."""

from __future__ import annotations

import json

import pytest
import requests

from tests.fake_ollama import DEFAULT_TOKENS
from tests.wsclient import WsClient


class Api:
    def __init__(self, runtime):
        self.base = runtime.url + "api"
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {runtime.token}"

    def __getattr__(self, method):
        def call(path, **kwargs):
            return self.session.request(method.upper(), self.base + path, timeout=10, **kwargs)

        return call


@pytest.fixture
def api(runtime):
    return Api(runtime)


def chat(runtime, content, conversation_id=None, model="llama3.2"):
    ws = WsClient(runtime.url.replace("http://", "ws://") + f"ws?token={runtime.token}")
    ws.send(
        {
            "type": "chat.send",
            "request_id": "r",
            "conversation_id": conversation_id,
            "content": content,
            "model": model,
        }
    )
    frames = ws.reply()
    ws.close()
    return frames


def assert_error(response, status, code):
    assert response.status_code == status
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()["error"]
    assert body["code"] == code and body["message"]


def test_health_and_status(api, fake_ollama):
    health = api.get("/health").json()
    assert health["status"] == "ok" and health["version"]
    status = api.get("/status").json()
    assert status["endpoint"] == fake_ollama.url
    assert set(status) >= {
        "state",
        "endpoint",
        "latency_ms",
        "version",
        "error",
        "reconnect_attempt",
        "next_retry_s",
    }
    assert api.post("/connection/reconnect").status_code == 202


def test_models(api, fake_ollama):
    models = api.get("/models").json()["models"]
    assert [m["name"] for m in models] == [m["name"] for m in fake_ollama.models]
    assert set(models[0]) >= {"name", "size", "modified_at", "details"}
    fake_ollama.stop()
    assert_error(api.get("/models"), 503, "ollama_unavailable")


def test_conversation_crud(api):
    created = api.post("/conversations", json={"title": "Plans", "system_prompt": "Be brief"})
    assert created.status_code == 201
    conversation = created.json()
    assert conversation["title"] == "Plans" and conversation["message_count"] == 0
    cid = conversation["id"]
    assert isinstance(cid, str)
    assert conversation["created_at"].endswith("Z")
    renamed = api.patch(f"/conversations/{cid}", json={"title": "  Holiday plans "})
    assert renamed.status_code == 200 and renamed.json()["title"] == "Holiday plans"
    fetched = api.get(f"/conversations/{cid}").json()
    assert fetched["system_prompt"] == "Be brief" and fetched["messages"] == []
    assert api.delete(f"/conversations/{cid}").status_code == 204
    assert_error(api.get(f"/conversations/{cid}"), 404, "not_found")
    assert_error(api.delete(f"/conversations/{cid}"), 404, "not_found")
    assert_error(api.patch(f"/conversations/{cid}", json={"title": "x"}), 404, "not_found")


def test_empty_post_creates_an_untitled_conversation(api):
    created = api.post("/conversations")
    assert created.status_code == 201 and created.json()["title"]


@pytest.mark.parametrize(
    "body",
    [
        '{"title": 5}',
        "[1]",
        "not json",
        '{"title": ""}',
        '{"colour": "red"}',
        json.dumps({"title": "x" * 501}),
    ],
)
def test_bad_bodies_are_400(api, body):
    cid = api.post("/conversations", json={}).json()["id"]
    response = api.patch(
        f"/conversations/{cid}", data=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400 and response.json()["error"]["code"]
    assert api.get(f"/conversations/{cid}").json()["title"] != "x"


def test_list_is_newest_first_and_searchable(api, runtime):
    first = chat(runtime, "Tell me about penguins")[0]["conversation_id"]
    second = chat(runtime, "Recipes with lentils")[0]["conversation_id"]
    listed = api.get("/conversations").json()["conversations"]
    assert [c["id"] for c in listed] == [second, first]
    assert listed[0]["message_count"] == 2
    by_title = api.get("/conversations", params={"q": "penguin"}).json()["conversations"]
    assert [c["id"] for c in by_title] == [first]
    by_text = api.get("/conversations", params={"q": "Rayleigh"}).json()["conversations"]
    assert {c["id"] for c in by_text} == {first, second}
    assert api.get("/conversations", params={"q": "zebra"}).json()["conversations"] == []


def test_messages_in_order_with_stats(api, runtime):
    cid = chat(runtime, "one")[0]["conversation_id"]
    chat(runtime, "two", conversation_id=cid)
    messages = api.get(f"/conversations/{cid}").json()["messages"]
    assert [(m["role"], m["content"][:3]) for m in messages] == [
        ("user", "one"),
        ("assistant", "The"),
        ("user", "two"),
        ("assistant", "The"),
    ]
    assert messages[1]["stats"]["eval_count"] == len(DEFAULT_TOKENS)
    assert all(
        {"id", "role", "content", "status", "model", "created_at"} <= set(m) for m in messages
    )


def test_export_json_and_markdown(api, runtime):
    cid = chat(runtime, "Export me")[0]["conversation_id"]
    as_json = api.get(f"/conversations/{cid}/export", params={"format": "json"})
    assert as_json.status_code == 200
    assert "attachment" in as_json.headers["Content-Disposition"]
    assert as_json.json()["messages"][1]["content"] == "".join(DEFAULT_TOKENS)
    as_md = api.get(f"/conversations/{cid}/export", params={"format": "markdown"})
    assert as_md.headers["Content-Type"].startswith("text/markdown")
    assert as_md.text.startswith("# Export me") and "## You" in as_md.text
    assert "Rayleigh" in as_md.text
    assert_error(
        api.get(f"/conversations/{cid}/export", params={"format": "pdf"}), 400, "invalid_format"
    )


def test_unknown_routes_and_methods_answer_json(api):
    assert_error(api.get("/nope"), 404, "not_found")
    assert_error(api.put("/health"), 405, "method_not_allowed")
