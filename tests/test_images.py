"""Images for vision models through the whole app: REST upload and fetch, chat.send and
chat.edit naming them, what the fake Ollama and the fake OpenAI server receive, the refusal
for a model that cannot see, and the store's and the export's keeping of them."""

from __future__ import annotations

import base64
import copy
import sqlite3
from collections.abc import Iterator

import pytest
import requests

from backend.core.store import Store
from tests.fake_ollama import NO_VISION_ERROR, VISION_MODEL
from tests.fake_openai import FakeOpenAI
from tests.image_files import GIF, JPEG_HEAD, WEBP_HEAD, png
from tests.waiting import eventually
from tests.wsclient import WsClient

VISION = VISION_MODEL["name"]


class Rest:
    def __init__(self, runtime) -> None:
        self.base = runtime.url + "api/"
        self.headers = {"Authorization": f"Bearer {runtime.token}"}

    def __call__(self, method: str, path: str, body: object = None, **kw) -> requests.Response:
        return requests.request(
            method, self.base + path, json=body, headers=self.headers, timeout=20, **kw
        )

    def upload(self, data: bytes) -> requests.Response:
        return self("POST", "images", data=data)


@pytest.fixture
def rest(runtime, fake_ollama) -> Rest:
    fake_ollama.models.append(copy.deepcopy(VISION_MODEL))
    return Rest(runtime)


@pytest.fixture
def ws(runtime) -> Iterator[WsClient]:
    client = WsClient(runtime.url.replace("http://", "ws://") + f"ws?token={runtime.token}")
    yield client
    client.close()


def send(ws: WsClient, images: list[str], conversation_id=None, **extra) -> list[dict]:
    ws.send({"type": "chat.send", "request_id": "r", "conversation_id": conversation_id,
             "content": "What is in the picture?", "images": images, **extra})  # fmt: skip
    return _reply_or_refusal(ws)


def _reply_or_refusal(ws: WsClient) -> list[dict]:
    """A reply's frames, or the one error frame that refused the request."""
    frames = ws.recv_until(
        lambda f: (
            f["type"] in ("complete", "cancelled", "error")
            and ("message_id" in f or f.get("request_id") is not None)
        )
    )
    return [f for f in frames if f["type"] != "status"]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# -- upload and fetch -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "mime"),
    [(png(), "image/png"), (GIF, "image/gif"), (JPEG_HEAD, "image/jpeg"),
     (WEBP_HEAD, "image/webp")],
)  # fmt: skip
def test_an_upload_is_known_by_its_bytes_and_fetched_back(rest: Rest, data, mime) -> None:
    answer = rest.upload(data)
    assert answer.status_code == 201
    image = answer.json()
    assert (image["mime"], image["size"]) == (mime, len(data))
    fetched = rest("GET", f"images/{image['id']}")
    assert fetched.status_code == 200 and fetched.content == data
    assert fetched.headers["Content-Type"] == mime
    assert fetched.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    "data", [b"<svg xmlns='http://www.w3.org/2000/svg'/>", b"not an image.png", b"RIFF1234WAVE"]
)
def test_other_bytes_are_refused_whatever_they_are_called(rest: Rest, data: bytes) -> None:
    answer = rest("POST", "images", data=data, files=None)
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "unsupported_image"
    assert "PNG, JPEG, WebP and GIF" in answer.json()["error"]["message"]


def test_an_image_over_10_mib_is_refused_with_413(rest: Rest) -> None:
    big = png() + b"\x00" * (10 * 1024 * 1024)
    answer = rest.upload(big)
    assert answer.status_code == 413
    assert answer.json()["error"] == {
        "code": "image_too_large",
        "message": "An image may be at most 10 MiB",
    }
    assert rest.upload(png() + b"\x00" * (9 * 1024 * 1024)).status_code == 201  # under: fine


def test_images_need_the_token_and_the_apps_origin(runtime, rest: Rest) -> None:
    image = rest.upload(png()).json()
    url = runtime.url + f"api/images/{image['id']}"
    assert requests.get(url, timeout=10).status_code == 401
    assert requests.post(runtime.url + "api/images", data=png(), timeout=10).status_code == 401
    evil = {**rest.headers, "Origin": "http://evil.example"}
    posted = requests.post(runtime.url + "api/images", data=png(), headers=evil, timeout=10)
    assert posted.status_code == 403
    assert rest("GET", "images/nope").json()["error"]["code"] == "not_found"


# -- what the model is sent ----------------------------------------------------------------


def test_ollama_gets_the_images_in_base64_on_every_later_turn(
    rest: Rest, ws: WsClient, fake_ollama
) -> None:
    first, second = png(rgb=(1, 2, 3)), GIF
    ids = [rest.upload(first).json()["id"], rest.upload(second).json()["id"]]
    frames = send(ws, ids, model=VISION)
    assert frames[-1]["type"] == "complete"
    sent = fake_ollama.chat_requests[-1]["messages"][-1]
    assert sent["images"] == [b64(first), b64(second)]
    conversation_id = frames[0]["conversation_id"]
    shown = rest("GET", f"conversations/{conversation_id}").json()["messages"][0]
    assert [i["mime"] for i in shown["images"]] == ["image/png", "image/gif"]
    assert rest("GET", f"images/{shown['images'][0]['id']}").content == first
    # The next turn sends the earlier message's images again, and none with the new one.
    again = send(ws, [], conversation_id)
    assert again[-1]["type"] == "complete"
    history = fake_ollama.chat_requests[-1]["messages"]
    assert history[0]["images"] == [b64(first), b64(second)] and "images" not in history[-1]


def test_regenerate_and_edit_keep_the_images(rest: Rest, ws: WsClient, fake_ollama) -> None:
    image = png(rgb=(9, 9, 9))
    frames = send(ws, [rest.upload(image).json()["id"]], model=VISION)
    user_id, reply_id = frames[0]["user_message_id"], frames[0]["message_id"]
    ws.send({"type": "chat.regenerate", "request_id": "g", "message_id": reply_id})
    assert ws.reply()[-1]["type"] == "complete"
    assert fake_ollama.chat_requests[-1]["messages"][-1]["images"] == [b64(image)]
    ws.send({"type": "chat.edit", "request_id": "e", "message_id": user_id, "content": "And?"})
    edited = ws.reply()
    assert edited[-1]["type"] == "complete"
    assert fake_ollama.chat_requests[-1]["messages"][-1] == {
        "role": "user", "content": "And?", "images": [b64(image)]
    }  # fmt: skip
    # An edit that names no images drops them; the original keeps its own.
    ws.send({"type": "chat.edit", "request_id": "f", "message_id": user_id, "content": "Text",
             "images": []})  # fmt: skip
    assert ws.reply()[-1]["type"] == "complete"
    assert "images" not in fake_ollama.chat_requests[-1]["messages"][-1]
    ws.send({"type": "chat.regenerate", "request_id": "h", "message_id": reply_id})
    assert ws.reply()[-1]["type"] == "complete"
    assert fake_ollama.chat_requests[-1]["messages"][-1]["images"] == [b64(image)]


def test_an_openai_server_gets_content_parts_with_data_urls(rest: Rest, ws: WsClient) -> None:
    with FakeOpenAI() as server:
        fields = {"name": "llama.cpp", "kind": "openai", "base_url": server.url + "/v1"}
        endpoint = rest("POST", "endpoints", fields).json()
        connected = lambda: rest("GET", f"endpoints/{endpoint['id']}").json()["status"]  # noqa: E731
        assert eventually(lambda: connected()["state"] == "connected", within=10)
        ids = [rest.upload(png()).json()["id"], rest.upload(JPEG_HEAD).json()["id"]]
        frames = send(ws, ids, endpoint_id=endpoint["id"], model="qwen3:8b")
        assert frames[-1]["type"] == "complete"
        assert server.chat_requests[-1]["messages"][-1]["content"] == [
            {"type": "text", "text": "What is in the picture?"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64," + b64(png())}},
            {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64," + b64(JPEG_HEAD)}},
        ]
        # A server that cannot see says so in its own words, shown as the reply's error.
        server.vision = False
        refused = send(ws, [rest.upload(png()).json()["id"]], frames[0]["conversation_id"])
        assert refused[-1]["type"] == "error"
        assert "image input is not supported" in refused[-1]["message"]


def test_a_model_that_cannot_see_is_refused_before_anything_is_stored(
    rest: Rest, ws: WsClient, fake_ollama
) -> None:
    image_id = rest.upload(png()).json()["id"]
    refused = send(ws, [image_id], model="llama3.2:latest")
    assert refused == [refused[-1]] and refused[-1]["type"] == "error"
    assert refused[-1]["code"] == "model_cannot_see_images"
    assert "llama3.2:latest cannot see images" in refused[-1]["message"]
    assert fake_ollama.chat_requests == [] and rest("GET", "conversations").json() == {
        "conversations": []
    }
    # The same upload still goes to a model that sees.
    assert send(ws, [image_id], model=VISION)[-1]["type"] == "complete"


def test_the_fake_ollama_fails_images_for_a_blind_model_as_ollama_does(fake_ollama) -> None:
    body = {"model": "llama3.2", "stream": False,
            "messages": [{"role": "user", "content": "x", "images": [b64(png())]}]}  # fmt: skip
    answer = requests.post(fake_ollama.url + "/api/chat", json=body, timeout=10)
    assert answer.status_code == 500 and answer.json() == {"error": NO_VISION_ERROR}
    body["messages"][0]["images"] = ["%%%"]
    assert requests.post(fake_ollama.url + "/api/chat", json=body, timeout=10).status_code == 400


def test_more_than_four_images_are_refused_and_nothing_is_stored(rest: Rest, ws: WsClient) -> None:
    ids = [rest.upload(png()).json()["id"] for _ in range(5)]
    refused = send(ws, ids, model=VISION)
    assert refused[-1]["code"] == "too_many_images"
    assert rest("GET", "conversations").json()["conversations"] == []
    unknown = send(ws, ["no-such-image"], model=VISION)
    assert unknown[-1]["type"] == "error" and unknown[-1]["code"] == "not_found"


# -- the store and the export -------------------------------------------------------------


def _image_rows(path) -> int:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT count(*) FROM images").fetchone()[0]
    finally:
        conn.close()


def test_deleting_a_conversation_deletes_its_images_and_orphans_go_at_start(tmp_path) -> None:
    path = tmp_path / "cloudtolocalllm.db"
    with Store(path) as store:
        conversation = store.create_conversation()
        kept = store.add_image(png())
        store.add_message(conversation["id"], "user", "look", images=[kept["id"]])
        store.add_image(GIF)  # uploaded, never sent
        assert _image_rows(path) == 2
        assert store.get_conversation(conversation["id"])["messages"][0]["images"] == [kept]
    with Store(path) as store:
        assert _image_rows(path) == 1  # the unsent upload is gone
        store.delete_conversation(conversation["id"])
        assert _image_rows(path) == 0


def test_export_keeps_images_and_import_restores_them(tmp_path) -> None:
    from datetime import UTC, datetime

    from backend.core.export import conversation_markdown
    from backend.core.json_text import loads
    from backend.core.store.transfer import import_document, iter_export_json

    image = png(rgb=(5, 6, 7))
    with Store(tmp_path / "a.db") as store:
        conversation = store.create_conversation(title="Pictures")
        meta = store.add_image(image)
        store.add_message(conversation["id"], "user", "look", images=[meta["id"]])
        store.add_message(conversation["id"], "assistant", "A square.")
        document = loads("".join(iter_export_json(store, datetime.now(UTC))))
        markdown = conversation_markdown(store.get_conversation(conversation["id"]))
    exported = document["conversations"][0]["messages"][0]["images"]
    assert exported == [{"mime": "image/png", "size": len(image), "data": b64(image)}]
    assert "_[1 image attached: PNG" in markdown
    with Store(tmp_path / "b.db") as store:
        import_document(store, document)
        restored = store.get_conversation(conversation["id"])["messages"][0]["images"]
        assert store.get_image(restored[0]["id"]) == ("image/png", image)
    document["conversations"][0]["id"] = "other"
    document["conversations"][0]["messages"][0]["images"][0]["data"] = b64(b"<html>")
    with Store(tmp_path / "c.db") as store, pytest.raises(Exception) as refused:
        import_document(store, document)
    assert "conversations[0].messages[0].images[0]" in str(refused.value)


def test_a_picture_alone_is_a_question_but_no_text_and_no_picture_is_not(
    rest: Rest, ws: WsClient, fake_ollama
) -> None:
    image_id = rest.upload(png()).json()["id"]
    frames = send(ws, [image_id], model=VISION, content="")
    assert frames[-1]["type"] == "complete"
    assert fake_ollama.chat_requests[-1]["messages"][-1] == {
        "role": "user", "content": "", "images": [b64(png())]
    }  # fmt: skip
    assert send(ws, [], model=VISION, content=" ")[-1]["code"] == "empty_message"


def test_one_conversations_export_carries_its_images_into_an_import(
    rest: Rest, ws: WsClient
) -> None:
    image = png(rgb=(50, 60, 70))
    frames = send(ws, [rest.upload(image).json()["id"]], model=VISION)
    conversation_id = frames[0]["conversation_id"]
    exported = rest("GET", f"conversations/{conversation_id}/export?format=json").json()
    assert exported["messages"][0]["images"] == [
        {"mime": "image/png", "size": len(image), "data": b64(image)}
    ]
    markdown = rest("GET", f"conversations/{conversation_id}/export?format=markdown").text
    assert "_[1 image attached: PNG 1 KB; kept in the JSON export]_" in markdown
    shown = rest("GET", f"conversations/{conversation_id}").json()["messages"][0]["images"]
    assert rest("DELETE", f"conversations/{conversation_id}").status_code == 204
    assert rest("GET", f"images/{shown[0]['id']}").status_code == 404  # deleted with it
    imported = rest("POST", "import", exported)
    assert imported.status_code == 201
    restored = rest("GET", f"conversations/{conversation_id}").json()["messages"][0]["images"]
    assert rest("GET", f"images/{restored[0]['id']}").content == image


def test_an_image_counts_in_the_context_window() -> None:
    from backend.core.chat.context import TOKENS_PER_IMAGE, fit, message_tokens

    plain = {"role": "user", "content": "look"}
    pictured = {**plain, "images": [b64(png()), b64(GIF)]}
    assert message_tokens(pictured) == message_tokens(plain) + 2 * TOKENS_PER_IMAGE
    history = [pictured, {"role": "assistant", "content": "A square."}, plain]
    assert fit(history, 4096).dropped == 0
    assert fit(history, 2048).dropped == 2  # the old picture and its answer make room


def test_a_continued_reply_still_sends_the_images_it_answers(
    rest: Rest, ws: WsClient, fake_ollama
) -> None:
    image = png(rgb=(3, 3, 3))
    fake_ollama.error_after = 3  # the reply breaks off after some text
    frames = send(ws, [rest.upload(image).json()["id"]], model=VISION)
    assert frames[-1]["type"] == "error" and frames[-1]["content"]
    fake_ollama.error_after = None
    ws.send({"type": "chat.continue", "request_id": "c", "message_id": frames[0]["message_id"]})
    assert _reply_or_refusal(ws)[-1]["type"] == "complete"
    sent = fake_ollama.chat_requests[-1]["messages"]
    assert sent[0]["images"] == [b64(image)] and sent[-1]["role"] == "assistant"
