"""Search with a NUL: SQLite reads text as C strings, so a NUL would end a pattern early.
It separates words, as a space does; and no answer ever shows the database's path."""

from __future__ import annotations

import pytest

from tests.reliability.support import chat_send, collect_replies


@pytest.fixture(scope="module")
def searched(shared_app):
    ws = shared_app.ws()
    ids = {}
    for text in ("alpha and beta together", "only gamma here"):
        chat_send(ws, text)
        (frames,) = collect_replies(ws, 1).values()
        ids[text] = frames[0]["conversation_id"]
    ws.close()
    return shared_app, ids


def search(app, q: str):
    response = app.request("GET", "api/conversations", params={"q": q})
    assert str(app.data_dir) not in response.text and "cloudtolocalllm.db" not in response.text
    assert response.status_code == 200, response.text
    return {c["id"] for c in response.json()["conversations"]}


@pytest.mark.parametrize("q", ["alpha\x00beta", "\x00alpha", "beta\x00\x00", "alp\x00"])
def test_a_nul_separates_words(searched, q):
    app, ids = searched
    assert search(app, q) == {ids["alpha and beta together"]}


@pytest.mark.parametrize("q", ["\x00", "\x00\x00 \x00", "\x00%\x00", "%\x00_"])
def test_a_query_of_nuls_and_symbols_matches_nothing_it_should_not(searched, q):
    app, ids = searched
    assert search(app, q) == set()
