"""Export of every conversation and import: lossless round trips, all-or-nothing validation."""
# Over 300 lines on purpose: one test per export/import rule, sharing the document builders.

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from backend.core.errors import BadRequest
from backend.core.settings import Settings, prepare_data_dir
from backend.core.store import Store, transfer
from backend.core.store.models import Conversation, Message
from backend.launcher.runtime import Runtime
from backend.web import import_body
from tests.wsclient import WsClient

HAS_TREE = "parent_id" in Message.__table__.c and "active_leaf_id" in Conversation.__table__.c
STAMP = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


class Api:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {runtime.token}"

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        return self.session.request(method, self.runtime.url + "api" + path, timeout=10, **kwargs)

    def export(self, fmt: str = "json") -> requests.Response:
        return self.request("GET", "/export", params={"format": fmt})

    def import_(self, document) -> requests.Response:
        body = document if isinstance(document, bytes) else json.dumps(document).encode()
        return self.request("POST", "/import", data=body)


@pytest.fixture
def api(runtime) -> Api:
    return Api(runtime)


@pytest.fixture
def empty_app(fake_ollama, tmp_path):
    """A second backend on an empty data dir, beside the `runtime` fixture's."""
    settings = Settings(
        mode="headless",
        ollama_url=fake_ollama.url,
        data_dir=prepare_data_dir(tmp_path / "empty-data"),
    )
    app = Runtime(settings).start()
    yield Api(app)
    app.stop()


def ws_chat(runtime: Runtime, content: str) -> str:
    ws = WsClient(runtime.url.replace("http://", "ws://") + f"ws?token={runtime.token}")
    frame = {"type": "chat.send", "request_id": "r", "conversation_id": None}
    ws.send({**frame, "content": content, "model": "llama3.2"})
    frames = ws.reply()
    ws.close()
    assert frames[-1]["type"] == "complete"
    return frames[0]["conversation_id"]


def tree_document() -> dict:
    """A conversation with an edited question: two branches, the second one shown."""
    conversation = {
        "id": "tree1",
        "title": "Branches",
        "created_at": "2026-01-02T10:00:00.000000Z",
        "updated_at": "2026-01-02T10:05:00.000000Z",
        "active_leaf_id": "a2",
        "options": {"temperature": 0.2},
        "think": True,
        "messages": [
            {"id": "u1", "role": "user", "content": "Hi", "parent_id": None},
            {"id": "a1", "role": "assistant", "content": "Hello", "parent_id": "u1"},
            {"id": "u2", "role": "user", "content": "Hi there", "parent_id": None},
            {"id": "a2", "role": "assistant", "content": "Hey", "parent_id": "u2"},
        ],
    }
    return {"format": "cloudtolocalllm-export", "version": 1, "conversations": [conversation]}


def fill(runtime: Runtime) -> None:
    """Conversations with every kind of stored field."""
    ws_chat(runtime, "Why is the sky blue? <b>&</b> 🐧")  # a real reply, with stats
    store: Store = runtime.services.store
    store.create_conversation("Empty one")
    c = store.create_conversation("Odd states", model="qwen3:8b", system_prompt="Be terse.\nOK?")
    store.add_message(c["id"], "system", "You are a bird.")
    reply = store.add_message(c["id"], "assistant", "", status="streaming", model="qwen3:8b")
    store.update_message(reply["id"], content="Half", thinking="hmm…", status="cancelled")
    failed = store.add_message(c["id"], "assistant", "x", model="qwen3:8b")
    store.update_message(failed["id"], status="error", error="runner crashed")
    if HAS_TREE:
        transfer.import_document(store, tree_document())


def without_stamp(document: dict) -> dict:
    return {k: v for k, v in document.items() if k != "exported_at"}


def test_export_import_export_is_lossless(api: Api, empty_app: Api, runtime) -> None:
    fill(runtime)
    first = api.export()
    assert first.status_code == 200
    assert first.headers["Content-Type"].startswith("application/json")
    assert 'attachment; filename="cloudtolocalllm-export-' in first.headers["Content-Disposition"]
    document = first.json()
    assert document["format"] == "cloudtolocalllm-export" and document["version"] == 1
    assert len(document["conversations"]) == 4 if HAS_TREE else 3
    imported = empty_app.import_(document)
    assert imported.status_code == 201
    counts = imported.json()["imported"]
    assert counts["conversations"] == len(document["conversations"])
    ids = [c["id"] for c in imported.json()["conversations"]]
    assert ids == [c["id"] for c in document["conversations"]]  # free ids are kept
    again = empty_app.export().json()
    assert without_stamp(again) == without_stamp(document)
    assert again["exported_at"].endswith("Z")


def exported_document(store: Store) -> dict:
    return json.loads("".join(transfer.iter_export_json(store, STAMP)))


def test_the_stream_is_the_document(tmp_path: Path) -> None:
    with Store(tmp_path / "a.db") as store:
        assert json.loads("".join(transfer.iter_export_json(store, STAMP)))["conversations"] == []
        c = store.create_conversation('Quotes " and \\ and\nnewlines')
        store.add_message(c["id"], "user", 'multi\nline "text"')
        store.create_conversation("Second")
        text = "".join(transfer.iter_export_json(store, STAMP))
        assert text == json.dumps(json.loads(text), indent=2, ensure_ascii=False)


def test_markdown_export_holds_every_conversation(api: Api, runtime) -> None:
    fill(runtime)
    response = api.export("markdown")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/markdown")
    text = response.text
    assert text.startswith("# CloudToLocalLLM export\n")
    for conversation in runtime.services.store.list_conversations():
        own = api.request("GET", f"/conversations/{conversation['id']}/export?format=markdown")
        assert "\n---\n\n" + own.text in text
    assert api.export("pdf").json()["error"]["code"] == "invalid_format"


def tree_or_line_document() -> dict:
    """Conversation "tree1": with branches when the store has them, else one message."""
    return tree_document() if HAS_TREE else {
        "format": "cloudtolocalllm-export", "version": 1,
        "conversations": [{"id": "tree1", "title": "T", "messages": [
            {"id": "u1", "role": "user", "content": "Hi"}]}],
    }  # fmt: skip


def test_importing_the_same_export_twice_adds_nothing(tmp_path: Path) -> None:
    document = tree_or_line_document()
    with Store(tmp_path / "a.db") as store:
        first = transfer.import_document(store, document)
        before = exported_document(store)
        second = transfer.import_document(store, document)
        assert first["conversations"][0]["id"] == "tree1" and first["skipped"] == []
        title = first["conversations"][0]["title"]
        assert second["imported"] == {"conversations": 0, "messages": 0, "skipped": 1}
        assert second["conversations"] == [] and second["skipped"] == [
            {"id": "tree1", "title": title}
        ]
        after = exported_document(store)
    assert after["conversations"] == before["conversations"]


def test_taken_message_ids_get_new_ones_and_references_follow(tmp_path: Path) -> None:
    document = tree_or_line_document()
    with Store(tmp_path / "a.db") as store:
        transfer.import_document(store, document)
        document["conversations"][0]["id"] = "tree2"  # another conversation, same message ids
        [summary] = transfer.import_document(store, document)["conversations"]
        assert summary["original_id"] == summary["id"] == "tree2"
        exported = exported_document(store)["conversations"]
    everything = {c["id"]: c for c in exported}  # every message, not just the path shown
    copy_, original = everything[summary["id"]], everything["tree1"]
    assert [m["content"] for m in copy_["messages"]] == [m["content"] for m in original["messages"]]
    new_ids = {m["id"] for m in copy_["messages"]}
    assert not new_ids & {m["id"] for m in original["messages"]}
    if HAS_TREE:
        parents = {m["content"]: m["parent_id"] for m in copy_["messages"]}
        by_content = {m["content"]: m["id"] for m in copy_["messages"]}
        assert parents == {"Hi": None, "Hello": by_content["Hi"], "Hi there": None,
                           "Hey": by_content["Hi there"]}  # fmt: skip
        assert copy_["active_leaf_id"] == by_content["Hey"]


def test_a_single_exported_conversation_imports(api: Api, runtime) -> None:
    cid = ws_chat(runtime, "Export me alone")
    single = api.request("GET", f"/conversations/{cid}/export", params={"format": "json"}).json()
    again = api.import_(single)  # it is still here: skipped, said so
    assert again.status_code == 201 and again.json()["conversations"] == []
    assert again.json()["skipped"] == [{"id": cid, "title": single["title"]}]
    assert api.request("DELETE", f"/conversations/{cid}").status_code == 204
    response = api.import_(single)
    assert response.status_code == 201
    [summary] = response.json()["conversations"]
    assert summary["original_id"] == summary["id"] == cid  # back under its own id
    copy_ = api.request("GET", f"/conversations/{summary['id']}").json()
    assert [m["content"] for m in copy_["messages"]] == [m["content"] for m in single["messages"]]
    assert copy_["messages"][1]["stats"] == single["messages"][1]["stats"]


def test_a_minimal_hand_made_file_imports_with_defaults(tmp_path: Path) -> None:
    document = {
        "title": "Notes",
        "messages": [
            {"role": "user", "content": "Q", "created_at": "2026-02-01T08:00:00+02:00"},
            {"role": "assistant", "content": "A", "status": "streaming"},
        ],
    }
    with Store(tmp_path / "a.db") as store:
        [summary] = transfer.import_document(store, document)["conversations"]
        conversation = store.get_conversation(summary["id"])
    assert conversation["created_at"] == "2026-02-01T06:00:00.000000Z"
    assert [m["status"] for m in conversation["messages"]] == ["complete", "interrupted"]
    assert all(m["created_at"] == conversation["created_at"] for m in conversation["messages"])
    if HAS_TREE:
        first, second = conversation["messages"]
        assert (first["parent_id"], second["parent_id"]) == (None, first["id"])
        assert conversation["active_leaf_id"] == second["id"]


def valid_document() -> dict:
    message = {"role": "user", "content": "hello", "created_at": "2026-01-01T00:00:00Z"}
    conversation = {
        "title": "Fine",
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
        "messages": [dict(message, id="m1"), dict(message, id="m2", role="assistant")],
    }
    return {
        "format": "cloudtolocalllm-export",
        "version": 1,
        "conversations": [dict(conversation, id="c0"), dict(copy.deepcopy(conversation), id="c1")],
    }


def _set(path: str, value):
    def change(document):
        *parents, last = path.split(".")
        target = document
        for key in parents:
            target = target[int(key)] if key.isdigit() else target[key]
        target[int(last) if last.isdigit() else last] = value
        return document

    return change


NOT_A_TIME = "must be an ISO-8601 time with a zone, like 2026-01-31T12:00:00Z"
BAD = [
    (_set("conversations.1.messages.1.role", "robot"),
     "conversations[1].messages[1].role: must be user, assistant or system"),
    (_set("conversations.0.title", " "), "conversations[0].title: must not be empty"),
    (_set("conversations.0.title", 5), "conversations[0].title: must be a string"),
    (_set("conversations.0.title", "x" * 501),
     "conversations[0].title: is longer than 500 characters"),
    (_set("conversations.1.messages.0.status", "done"),
     "conversations[1].messages[0].status: must be one of cancelled, complete, error,"
     " interrupted, pending, streaming"),
    (_set("conversations.1.messages.0.content", None),
     "conversations[1].messages[0].content: must be a string"),
    (_set("conversations.0.created_at", "yesterday"), f"conversations[0].created_at: {NOT_A_TIME}"),
    (_set("conversations.0.created_at", "2026-01-01T00:00:00"),
     f"conversations[0].created_at: {NOT_A_TIME}"),
    (_set("conversations.0.id", "../etc"),
     "conversations[0].id: must be 1 to 64 letters, digits, '-' or '_' (or null for a new id)"),
    (_set("conversations.0.messages.0.stats", [1]),
     "conversations[0].messages[0].stats: must be an object or null"),
    (_set("conversations.0.messages.1.position", 1),
     "conversations[0].messages[1].position: must be a whole number above 1"),
    (_set("conversations.0.messages.1.id", "m1"),
     "conversations[0].messages[1].id: is used by an earlier message of this conversation"),
    (_set("conversations.0.messages", {}), "conversations[0].messages: must be a list"),
    (_set("conversations.1.messages.0", "hi"), "conversations[1].messages[0]: must be an object"),
    (_set("conversations", {}), "conversations: must be a list"),
    (_set("format", "chatgpt"), "format: must be 'cloudtolocalllm-export'"),
    (_set("version", 2), "version: must be 1; this app reads version 1 only"),
    (lambda d: d["conversations"], "not a CloudToLocalLLM export: expected an object with"
     ' "format": \'cloudtolocalllm-export\' or one exported conversation (with "messages")'),
]  # fmt: skip
if HAS_TREE:
    BAD += [
        (_set("conversations.0.messages.0.parent_id", "m2"),
         "conversations[0].messages[0].parent_id: must be the id of an earlier message in"
         " this conversation"),
        (_set("conversations.1.active_leaf_id", "m9"),
         "conversations[1].active_leaf_id: must be the id of a message in this conversation"),
        (_set("conversations.0.options", {"temperature": "hot"}),
         "conversations[0].options: Option 'temperature' must be a number"),
        (_set("conversations.0.think", "yes"), "conversations[0].think: must be a boolean value"),
    ]  # fmt: skip


@pytest.mark.parametrize(("change", "message"), BAD)
def test_a_bad_file_is_refused_whole_with_the_place_named(tmp_path: Path, change, message) -> None:
    with Store(tmp_path / "a.db") as store:
        transfer.import_document(store, {"title": "Already here", "messages": []})
        before = exported_document(store)
        with pytest.raises(BadRequest) as caught:
            transfer.import_document(store, change(valid_document()))
        assert exported_document(store) == before
    assert (caught.value.code, caught.value.message) == ("invalid_import", message)


def test_rest_import_of_a_bad_file_is_400_and_writes_nothing(api: Api) -> None:
    document = valid_document()
    document["conversations"][1]["messages"][1]["role"] = "robot"
    response = api.import_(document)
    assert response.status_code == 400
    message = "conversations[1].messages[1].role: must be user, assistant or system"
    assert response.json()["error"] == {"code": "invalid_import", "message": message}
    assert api.export().json()["conversations"] == []


@pytest.mark.parametrize(
    ("body", "code"),
    [(b"", "invalid_json"), (b"{not json", "invalid_json"), (b'{"x": NaN}', "invalid_json"),
     (b"\xff\xfe", "invalid_json"), (b"[]", "invalid_import")],
)  # fmt: skip
def test_unreadable_bodies_are_400(api: Api, body: bytes, code: str) -> None:
    response = api.import_(body)
    assert response.status_code == 400 and response.json()["error"]["code"] == code
    if code == "invalid_json" and body:  # what import reads, not where a parser gave up
        assert response.json()["error"]["message"] == import_body.NOT_AN_EXPORT


def test_a_file_over_the_limit_is_413(api: Api, monkeypatch) -> None:
    monkeypatch.setattr(import_body, "IMPORT_MAX_BYTES", 1000)
    response = api.import_({"title": "x" * 2000, "messages": []})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "import_too_large"
    assert api.export().json()["conversations"] == []


def test_an_import_is_announced_to_subscribed_sockets(api: Api, runtime) -> None:
    ws = WsClient(runtime.url.replace("http://", "ws://") + f"ws?token={runtime.token}")
    ws.send({"type": "subscribe", "events": ["conversations"]})
    ws.send({"type": "ping"})
    assert ws.recv()["type"] == "pong"
    response = api.import_(valid_document())
    event = ws.recv_until(lambda f: f["type"] == "conversation.imported")[-1]
    ws.close()
    ids = [c["id"] for c in response.json()["conversations"]]
    assert event["conversation"] == {"ids": ids, "count": 2}
