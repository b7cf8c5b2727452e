"""Regenerate and edit as branches: the message tree, switching and deleting branches."""

from __future__ import annotations

import pytest
import requests

from backend.core.errors import BadRequest, Busy, NotFound
from tests.wsclient import WsClient


def run(reply) -> list[dict]:
    return list(reply.frames())


def say(chat, fake, conversation_id, content, answer):
    """One exchange; the model answers `answer`. Returns the reply's frames."""
    fake.tokens = [answer]
    return run(chat.send(conversation_id, content, model="llama3.2"))


def shown(conversation) -> list[tuple[str, str]]:
    return [(m["role"], m["content"]) for m in conversation["messages"]]


def sent_to_ollama(fake) -> list[tuple[str, str]]:
    return [(m["role"], m["content"]) for m in fake.chat_requests[-1]["messages"]]


@pytest.fixture
def two_turns(chat, fake_ollama):
    """A conversation: u1, a1, u2, a2. Returns (conversation_id, {name: message id})."""
    first = say(chat, fake_ollama, None, "u1", "a1")[0]
    cid = first["conversation_id"]
    second = say(chat, fake_ollama, cid, "u2", "a2")[0]
    ids = {
        "u1": first["user_message_id"],
        "a1": first["message_id"],
        "u2": second["user_message_id"],
        "a2": second["message_id"],
    }
    return cid, ids


def test_regenerate_adds_a_sibling_and_keeps_the_old_reply(chat, store, fake_ollama, two_turns):
    cid, ids = two_turns
    fake_ollama.tokens = ["a2 again"]
    frames = run(chat.regenerate(ids["a2"], request_id="again"))
    start, final = frames[0], frames[-1]
    assert final["type"] == "complete" and final["content"] == "a2 again"
    assert start["request_id"] == "again" and start["conversation_id"] == cid
    assert start["user_message_id"] == start["parent_id"] == ids["u2"]
    assert start["sibling_of"] == ids["a2"]
    # The model is asked again from the same place: the old reply is not in its history.
    assert sent_to_ollama(fake_ollama) == [("user", "u1"), ("assistant", "a1"), ("user", "u2")]
    conversation = store.get_conversation(cid)
    assert shown(conversation) == [
        ("user", "u1"),
        ("assistant", "a1"),
        ("user", "u2"),
        ("assistant", "a2 again"),
    ]
    last = conversation["messages"][-1]
    assert last["siblings"] == [ids["a2"], start["message_id"]]
    assert last["parent_id"] == ids["u2"]
    assert "siblings" not in conversation["messages"][0]
    assert store.get_message(ids["a2"])["content"] == "a2"  # the old reply stays
    assert conversation["message_count"] == 5


def test_edit_branches_from_the_edited_message(chat, store, fake_ollama, two_turns):
    cid, ids = two_turns
    fake_ollama.tokens = ["b2"]
    frames = run(chat.edit(ids["u2"], "u2 edited", request_id="ed"))
    start = frames[0]
    assert frames[-1]["type"] == "complete"
    assert start["sibling_of"] == ids["u2"] and start["parent_id"] == start["user_message_id"]
    assert sent_to_ollama(fake_ollama) == [
        ("user", "u1"),
        ("assistant", "a1"),
        ("user", "u2 edited"),
    ]
    conversation = store.get_conversation(cid)
    assert shown(conversation) == [
        ("user", "u1"),
        ("assistant", "a1"),
        ("user", "u2 edited"),
        ("assistant", "b2"),
    ]
    edited = conversation["messages"][2]
    assert edited["siblings"] == [ids["u2"], start["user_message_id"]]
    assert edited["parent_id"] == ids["a1"]
    assert "siblings" not in conversation["messages"][3]  # b2 is the only reply to the edit
    # The old branch is intact below the old message.
    assert store.get_message(ids["a2"])["parent_id"] == ids["u2"]


def test_editing_the_first_message_starts_a_second_root(chat, store, fake_ollama, two_turns):
    cid, ids = two_turns
    fake_ollama.tokens = ["c1"]
    start = run(chat.edit(ids["u1"], "u1 edited"))[0]
    assert sent_to_ollama(fake_ollama) == [("user", "u1 edited")]
    conversation = store.get_conversation(cid)
    assert shown(conversation) == [("user", "u1 edited"), ("assistant", "c1")]
    assert conversation["messages"][0]["parent_id"] is None
    assert conversation["messages"][0]["siblings"] == [ids["u1"], start["user_message_id"]]


def test_activate_switches_to_the_newest_leaf_below(chat, store, fake_ollama, two_turns):
    cid, ids = two_turns
    run(chat.edit(ids["u1"], "u1 edited"))
    back = chat.activate(ids["u1"])
    assert shown(back) == [("user", "u1"), ("assistant", "a1"), ("user", "u2"), ("assistant", "a2")]
    assert back["active_leaf_id"] == ids["a2"]
    assert back["messages"][0]["siblings"][0] == ids["u1"]
    assert store.get_conversation(cid) == back
    # A new message continues the branch now shown.
    say(chat, fake_ollama, cid, "u3", "a3")
    assert sent_to_ollama(fake_ollama)[-3:] == [("user", "u2"), ("assistant", "a2"), ("user", "u3")]
    assert shown(store.get_conversation(cid))[-2:] == [("user", "u3"), ("assistant", "a3")]


def test_activate_an_inner_message_keeps_its_newest_continuation(chat, store, fake_ollama):
    first = say(chat, fake_ollama, None, "q", "old answer")[0]
    cid = first["conversation_id"]
    say(chat, fake_ollama, cid, "follow-up", "more")
    fake_ollama.tokens = ["new answer"]
    regenerated = run(chat.regenerate(first["message_id"]))[0]
    assert shown(store.get_conversation(cid)) == [("user", "q"), ("assistant", "new answer")]
    back = chat.activate(first["message_id"])
    assert shown(back) == [
        ("user", "q"),
        ("assistant", "old answer"),
        ("user", "follow-up"),
        ("assistant", "more"),
    ]
    assert back["messages"][1]["siblings"] == [first["message_id"], regenerated["message_id"]]


def test_delete_removes_the_subtree_and_moves_the_path(chat, store, fake_ollama, two_turns):
    cid, ids = two_turns
    fake_ollama.tokens = ["a2 again"]
    newer = run(chat.regenerate(ids["a2"]))[0]["message_id"]
    after = chat.delete_message(newer)  # the shown reply: the path falls back to its sibling
    assert shown(after)[-1] == ("assistant", "a2")
    assert "siblings" not in after["messages"][-1]
    assert after["message_count"] == 4
    after = chat.delete_message(ids["u2"])  # a user message takes its replies with it
    assert shown(after) == [("user", "u1"), ("assistant", "a1")]
    for gone in (ids["u2"], ids["a2"], newer):
        with pytest.raises(NotFound):
            store.get_message(gone)
    assert shown(chat.delete_message(ids["u1"])) == []
    assert store.get_conversation(cid)["message_count"] == 0


def test_deleting_another_branch_keeps_the_shown_path(chat, store, fake_ollama, two_turns):
    cid, ids = two_turns
    run(chat.edit(ids["u2"], "u2 edited"))
    before = shown(store.get_conversation(cid))
    after = chat.delete_message(ids["u2"])
    assert shown(after) == before
    assert "siblings" not in after["messages"][2]


def test_wrong_kinds_of_message_are_refused(chat, two_turns):
    _cid, ids = two_turns
    with pytest.raises(BadRequest) as caught:
        chat.regenerate(ids["u1"])
    assert caught.value.code == "invalid_message"
    with pytest.raises(BadRequest) as caught:
        chat.edit(ids["a1"], "new text")
    assert caught.value.code == "invalid_message"
    with pytest.raises(BadRequest) as caught:
        chat.edit(ids["u1"], "   ")
    assert caught.value.code == "empty_message"
    for call in (chat.regenerate, chat.activate, chat.delete_message):
        with pytest.raises(NotFound):
            call("no-such-message")
    with pytest.raises(NotFound):
        chat.edit("no-such-message", "x")


def test_one_reply_per_conversation_and_branch_changes_wait(chat, store, fake_ollama, two_turns):
    cid, ids = two_turns
    fake_ollama.token_count, fake_ollama.token_delay = 200, 0.05  # streams until cancelled
    streaming = chat.regenerate(ids["a2"])
    attempts = (
        lambda: chat.regenerate(ids["a1"]),
        lambda: chat.edit(ids["u1"], "other"),
        lambda: chat.send(cid, "more"),
        lambda: chat.activate(ids["a2"]),
        lambda: chat.delete_message(streaming.message_id),
        lambda: chat.delete_message(ids["u1"]),
    )
    for attempt in attempts:
        with pytest.raises(Busy):
            attempt()
    chat.cancel(streaming.message_id)
    assert run(streaming)[-1]["type"] == "cancelled"
    assert shown(chat.delete_message(streaming.message_id))[-1] == ("assistant", "a2")
    assert store.get_conversation(cid)["message_count"] == 4


# Over the WebSocket and REST, on a real server.


class Api:
    def __init__(self, runtime):
        self.base = runtime.url + "api"
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {runtime.token}"

    def call(self, method: str, path: str, **kwargs) -> requests.Response:
        return self.session.request(method, self.base + path, timeout=10, **kwargs)


@pytest.fixture
def ws(runtime):
    client = WsClient(runtime.url.replace("http://", "ws://") + f"ws?token={runtime.token}")
    assert client.recv(skip=())["type"] == "status"
    yield client
    client.close()


def ws_exchange(ws, fake, frame: dict, answer: str) -> list[dict]:
    fake.tokens = [answer]
    ws.send({"request_id": "r", **frame})
    return ws.reply()


def test_branch_frames_over_the_socket(ws, runtime, fake_ollama):
    first = ws_exchange(
        ws,
        fake_ollama,
        {"type": "chat.send", "conversation_id": None, "content": "hi", "model": "llama3.2"},
        "one",
    )
    frames = ws_exchange(
        ws, fake_ollama, {"type": "chat.regenerate", "message_id": first[0]["message_id"]}, "two"
    )
    start = frames[0]
    assert [f["seq"] for f in frames] == list(range(len(frames)))
    assert start["type"] == "start" and start["request_id"] == "r"
    assert start["parent_id"] == first[0]["user_message_id"]
    assert start["sibling_of"] == first[0]["message_id"]
    assert start["context"] == {"dropped": 0, "num_ctx": 4096}
    assert frames[-1]["type"] == "complete" and frames[-1]["content"] == "two"
    edit = {"type": "chat.edit", "message_id": first[0]["user_message_id"], "content": "hello"}
    frames = ws_exchange(ws, fake_ollama, edit, "three")
    assert frames[-1]["content"] == "three" and frames[0]["sibling_of"] == edit["message_id"]
    conversation = runtime.services.store.get_conversation(first[0]["conversation_id"])
    assert shown(conversation) == [("user", "hello"), ("assistant", "three")]


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ({"type": "chat.regenerate", "request_id": "r"}, "missing_field"),
        ({"type": "chat.regenerate", "request_id": "r", "message_id": 3}, "invalid_field"),
        ({"type": "chat.regenerate", "request_id": "r", "message_id": "nope"}, "not_found"),
        ({"type": "chat.edit", "request_id": "r", "message_id": "nope"}, "missing_field"),
        (
            {"type": "chat.edit", "request_id": "r", "message_id": "x", "content": "y", "think": 1},
            "invalid_field",
        ),
        ({"type": "chat.edit", "request_id": "r", "message_id": "x", "content": "y"}, "not_found"),
    ],
)
def test_bad_branch_frames_get_an_error(ws, frame, code):
    ws.send(frame)
    error = ws.recv()
    assert error["type"] == "error" and error["code"] == code and error["request_id"] == "r"


def test_activate_and_delete_over_rest(runtime, fake_ollama):
    chat, api = runtime.services.chat, Api(runtime)
    first = say(chat, fake_ollama, None, "q", "a")[0]
    cid = first["conversation_id"]
    fake_ollama.tokens = ["b"]
    second = run(chat.regenerate(first["message_id"]))[0]["message_id"]
    listed = api.call("GET", f"/conversations/{cid}").json()
    assert [m["content"] for m in listed["messages"]] == ["q", "b"]
    assert listed["messages"][1]["siblings"] == [first["message_id"], second]
    response = api.call("POST", f"/messages/{first['message_id']}/activate")
    assert response.status_code == 200
    assert [m["content"] for m in response.json()["messages"]] == ["q", "a"]
    assert api.call("GET", f"/conversations/{cid}").json() == response.json()
    response = api.call("DELETE", f"/messages/{first['message_id']}")
    assert response.status_code == 200
    assert [m["content"] for m in response.json()["messages"]] == ["q", "b"]
    for method, path in (("POST", "/messages/nope/activate"), ("DELETE", "/messages/nope")):
        missing = api.call(method, path)
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_rest_branch_changes_are_busy_while_a_reply_streams(runtime, fake_ollama):
    chat, api = runtime.services.chat, Api(runtime)
    first = say(chat, fake_ollama, None, "q", "a")[0]
    fake_ollama.token_count, fake_ollama.token_delay = 200, 0.05  # streams until cancelled
    streaming = chat.regenerate(first["message_id"])
    for method, path in (
        ("DELETE", f"/messages/{streaming.message_id}"),
        ("POST", f"/messages/{first['message_id']}/activate"),
    ):
        response = api.call(method, path)
        assert response.status_code == 409 and response.json()["error"]["code"] == "busy"
    chat.cancel(streaming.message_id)
    run(streaming)
    assert api.call("DELETE", f"/messages/{streaming.message_id}").status_code == 200
