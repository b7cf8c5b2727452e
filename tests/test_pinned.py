"""Pinned conversations: stored, set over REST, kept by export and import (the migration
is tested in test_migrations.py)."""

from __future__ import annotations

import pytest

from tests.test_rest import Api, assert_error


@pytest.fixture
def api(runtime):
    return Api(runtime)


def test_new_conversations_are_not_pinned(api) -> None:
    created = api.post("/conversations", json={"title": "Plain"}).json()
    assert created["pinned"] is False
    listed = api.get("/conversations").json()["conversations"]
    assert [c["pinned"] for c in listed] == [False]


def test_patch_pins_and_unpins_without_moving_the_chat(api) -> None:
    older = api.post("/conversations", json={"title": "Older"}).json()
    newer = api.post("/conversations", json={"title": "Newer"}).json()
    pinned = api.patch(f"/conversations/{older['id']}", json={"pinned": True})
    assert pinned.status_code == 200
    assert pinned.json()["pinned"] is True
    # Not activity: updated_at stays, so the list order is as before.
    assert pinned.json()["updated_at"] == older["updated_at"]
    listed = api.get("/conversations").json()["conversations"]
    assert [(c["id"], c["pinned"]) for c in listed] == [
        (newer["id"], False),
        (older["id"], True),
    ]
    assert api.get(f"/conversations/{older['id']}").json()["pinned"] is True
    api.patch(f"/conversations/{older['id']}", json={"pinned": False})
    assert api.get(f"/conversations/{older['id']}").json()["pinned"] is False


def test_search_results_say_whether_they_are_pinned(api) -> None:
    found = api.post("/conversations", json={"title": "Zebra facts", "pinned": True}).json()
    hits = api.get("/conversations", params={"q": "zebra"}).json()["conversations"]
    assert [(c["id"], c["pinned"]) for c in hits] == [(found["id"], True)]


@pytest.mark.parametrize("value", [None, "yes", 1, 0, []])
def test_pinned_must_be_a_boolean(api, value) -> None:
    c = api.post("/conversations", json={"title": "T"}).json()
    assert_error(
        api.patch(f"/conversations/{c['id']}", json={"pinned": value}), 400, "invalid_field"
    )
    assert api.get(f"/conversations/{c['id']}").json()["pinned"] is False


def test_unknown_conversation_is_not_found(api) -> None:
    assert_error(api.patch("/conversations/nope", json={"pinned": True}), 404, "not_found")


def test_export_and_import_keep_pinning(api, runtime) -> None:
    pinned = api.post("/conversations", json={"title": "Pinned one", "pinned": True}).json()
    api.post("/conversations", json={"title": "Plain one"})
    exported = api.get("/export", params={"format": "json"})
    assert exported.status_code == 200
    document = exported.json()
    by_title = {c["title"]: c for c in document["conversations"]}
    assert (by_title["Pinned one"]["pinned"], by_title["Plain one"]["pinned"]) == (True, False)
    for c in api.get("/conversations").json()["conversations"]:
        api.delete(f"/conversations/{c['id']}")
    # A file from before pinning (no field) imports unpinned, next to one that has it.
    del by_title["Plain one"]["pinned"]
    assert api.post("/import", json=document).status_code == 201
    listed = {c["title"]: c for c in api.get("/conversations").json()["conversations"]}
    assert listed["Pinned one"]["pinned"] is True and listed["Pinned one"]["id"] == pinned["id"]
    assert listed["Plain one"]["pinned"] is False


def test_import_refuses_a_pinned_that_is_not_a_boolean(api) -> None:
    document = {"messages": [], "title": "Bad", "pinned": "yes"}
    response = api.post("/import", json=document)
    assert_error(response, 400, "invalid_import")
    assert "pinned" in response.json()["error"]["message"]
