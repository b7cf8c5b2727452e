"""Full-text search: prefix matching, safe input, ranking, excerpts, triggers and fallbacks."""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from backend.core.store import Store
from backend.core.store import migrations as migrations_module
from backend.core.store import search as search_module
from backend.core.store.migrations import MIGRATIONS, SEARCH_TRIGGERS, migrate
from backend.core.store.search_text import fts_match, highlight_html, parse_query


class Clock:
    """Each call is one second after the last: creation order decides `updated_at`."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture
def store(tmp_path: Path):
    with Store(tmp_path / "data" / "cloudtolocalllm.db", clock=Clock()) as store:
        yield store


def chat(store: Store, title: str, *texts: str) -> dict:
    conversation = store.create_conversation(title)
    for index, text in enumerate(texts):
        store.add_message(conversation["id"], ("user", "assistant")[index % 2], text)
    return conversation


def titles(results: list[dict]) -> list[str]:
    return [r["title"] for r in results]


def test_prefix_finds_words_while_typing(store: Store) -> None:
    chat(store, "Birds", "Tell me about penguins")
    chat(store, "Food", "Lentil soup")
    for typed in ("pe", "pen", "pengu", "penguins", "PENGU"):
        assert titles(store.list_conversations(typed)) == ["Birds"], typed
    assert store.list_conversations("penguinsx") == []


def test_every_word_must_match_in_one_message_or_title(store: Store) -> None:
    chat(store, "Birds", "emperor penguins huddle", "they live in Antarctica")
    assert titles(store.list_conversations("emperor pengu")) == ["Birds"]
    assert store.list_conversations("emperor antarctica") == []


def test_case_and_accents_are_ignored(store: Store) -> None:
    chat(store, "Café au lait", "Crème brûlée")
    assert titles(store.list_conversations("CAFE")) == ["Café au lait"]
    assert titles(store.list_conversations("creme brul")) == ["Café au lait"]


@pytest.mark.parametrize(
    "typed",
    ['"', "*", "-", "OR", ":", "a:b", "NEAR(", "NOT x", "(", ")", "^", '"open', "x AND", "{a}",
     "'", "\\", "+", "col:val*", "AND OR NOT", '""""', "* * *"],
)  # fmt: skip
def test_no_input_is_a_syntax_error(store: Store, typed: str) -> None:
    chat(store, "Anything", "some text")
    assert isinstance(store.list_conversations(typed), list)


def test_operators_in_the_input_are_plain_words(store: Store) -> None:
    chat(store, "Rock or roll", "either way")
    chat(store, "Penguins", "flightless birds")
    assert titles(store.list_conversations("-penguins")) == ["Penguins"]  # not "NOT"
    assert titles(store.list_conversations("or")) == ["Rock or roll"]
    assert titles(store.list_conversations("title:penguins")) == []  # no column filter
    assert titles(store.list_conversations('"penguins"')) == ["Penguins"]


def test_a_word_ending_in_a_symbol_matches_whole_words(store: Store) -> None:
    chat(store, "Templates in C++", "generic code")
    chat(store, "Cobol", "old code")
    assert titles(store.list_conversations("C++")) == ["Templates in C++"]
    assert titles(store.list_conversations("c")) == ["Templates in C++"]


def test_symbols_only_fall_back_to_substring_search(store: Store) -> None:
    found = chat(store, "Emoji", "I like 🐧 a lot")
    chat(store, "Plain", "no birds here")
    results = store.list_conversations("🐧")
    assert [r["id"] for r in results] == [found["id"]]
    assert results[0]["snippet"] == "I like <mark>🐧</mark> a lot"


def test_title_matches_first_then_by_matching_messages_then_newest(store: Store) -> None:
    chat(store, "Penguin facts", "nothing else")
    chat(store, "Zoo trip", "penguins!", "more penguins", "penguins again")
    chat(store, "Older mention", "a penguin")
    chat(store, "Newer mention", "one penguin")
    assert titles(store.list_conversations("penguin")) == [
        "Penguin facts",
        "Zoo trip",
        "Newer mention",
        "Older mention",
    ]


def test_results_keep_the_list_shape_and_add_match_and_snippet(store: Store) -> None:
    by_title = chat(store, "Penguins of the south", "hello")
    by_text = chat(store, "Birds", "first line", "Penguins <b>huddle</b> & keep warm", "bye")
    message_id = store.history(by_text["id"])[1]["id"]
    results = {r["id"]: r for r in store.list_conversations("penguins")}
    listed = {c["id"]: c for c in store.list_conversations()}
    for conversation_id, result in results.items():
        assert {k: result[k] for k in listed[conversation_id]} == listed[conversation_id]
    assert results[by_title["id"]]["match"] == "title"
    assert "message_id" not in results[by_title["id"]]
    assert results[by_title["id"]]["snippet"] == "<mark>Penguins</mark> of the south"
    assert results[by_text["id"]]["match"] == "message"
    assert results[by_text["id"]]["message_id"] == message_id
    # A reply's tags are markup (rendered, not shown): its excerpt keeps the words.
    assert results[by_text["id"]]["snippet"] == "<mark>Penguins</mark> huddle &amp; keep warm"
    assert results[by_text["id"]]["snippet_parts"] == [
        {"text": "Penguins", "mark": True},
        {"text": " huddle & keep warm", "mark": False},
    ]
    assert results[by_text["id"]]["hidden_branch"] is False
    assert "hidden_branch" not in results[by_title["id"]]


def test_the_snippet_shows_the_newest_matching_message(store: Store) -> None:
    conversation = chat(store, "Notes", "penguin one", "unrelated", "penguin two")
    newest = store.history(conversation["id"])[2]
    [result] = store.list_conversations("penguin")
    assert result["message_id"] == newest["id"]
    assert result["snippet"] == "<mark>penguin</mark> two"


def test_snippets_are_safe_html_around_the_match(store: Store) -> None:
    long_text = " ".join(f"word{i}" for i in range(40))
    script = "<script>alert('x')</script>"
    chat(store, "Long", f"{long_text} {script} penguin\n\n  tail {long_text}")
    [result] = store.list_conversations("penguin")
    snippet = result["snippet"]
    assert snippet.startswith("…") and snippet.endswith("…")
    assert "<mark>penguin</mark>" in snippet
    assert "alert(&#x27;x&#x27;)&lt;/script&gt; <mark>penguin</mark>" in snippet
    assert re.sub(r"</?mark>", "", snippet).count("<") == 0
    assert "\n" not in snippet and "  " not in snippet


def test_highlight_marks_phrases_and_overlapping_prefixes() -> None:
    phrases = parse_query("don't pen")
    html = highlight_html("I don't have a pen, just penguins & pencils", phrases)
    assert html == (
        "I <mark>don&#x27;t</mark> have a <mark>pen</mark>, just <mark>penguins</mark>"
        " &amp; <mark>pencils</mark>"
    )


def test_query_pieces_are_quoted(store: Store) -> None:
    assert fts_match(parse_query('say "hi" OR -x* a')) == '"say"* """hi""" "OR"* "-x*" "a"'
    assert fts_match(parse_query("?! …")) == ""


def test_paging(store: Store) -> None:
    for n in range(5):
        chat(store, f"Chat {n}", "penguin")
    everything = titles(store.list_conversations("penguin"))
    assert everything == [f"Chat {n}" for n in reversed(range(5))]
    assert titles(store.list_conversations("penguin", limit=2, offset=2)) == everything[2:4]


def test_the_index_follows_edits_and_deletes(store: Store) -> None:
    conversation = store.create_conversation("Old title")
    reply = store.add_message(conversation["id"], "assistant", "", status="streaming")
    store.update_message(reply["id"], content="Penguins")
    store.update_message(reply["id"], content="Walruses are big")
    store.update_message(reply["id"], content="Walruses are big", status="complete")
    store.update_conversation(conversation["id"], title="New title")
    assert store.list_conversations("penguins") == []
    assert titles(store.list_conversations("walrus")) == ["New title"]
    assert store.list_conversations("old") == []
    assert titles(store.list_conversations("new")) == ["New title"]
    store.delete_conversation(conversation["id"])
    assert store.list_conversations("walrus") == store.list_conversations("new") == []
    check = "INSERT INTO search_messages (search_messages, rank) VALUES ('integrity-check', 1)"
    with sqlite3.connect(store.path) as conn:
        conn.execute(check)  # raises if the index and the table disagree


def test_rows_from_before_the_index_are_found(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    migrate(path, MIGRATIONS[:1])
    with sqlite3.connect(path) as conn:
        conn.execute(
            "INSERT INTO conversations VALUES ('c1', 'Archive', NULL, NULL,"
            " '2025-01-01 00:00:00.000000', '2025-01-01 00:00:00.000000')"
        )
        conn.execute(
            "INSERT INTO messages (id, conversation_id, position, role, content, status,"
            " created_at) VALUES ('m1', 'c1', 1, 'user', 'Saved penguins', 'complete',"
            " '2025-01-01 00:00:00.000000')"
        )
    with Store(path) as store:
        [result] = store.list_conversations("pengu")
    assert (result["id"], result["message_id"]) == ("c1", "m1")


def test_without_fts5_search_scans_text(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(migrations_module, "fts5_available", lambda conn: False)
    monkeypatch.setattr(search_module, "fts5_available", lambda conn: False)
    with Store(tmp_path / "plain.db") as store:
        assert search_module.prepare(store.engine, store.path) is False
        conversation = chat(store, "Birds", "Tell me about Penguins")
        [result] = store.list_conversations("pengu")
    with sqlite3.connect(tmp_path / "plain.db") as conn:
        names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    assert "search_messages" not in names
    assert result["id"] == conversation["id"] and result["match"] == "message"
    assert result["snippet"] == "Tell me about <mark>Pengu</mark>ins"


def test_a_file_moved_to_a_sqlite_without_fts5_still_takes_writes(
    store: Store, monkeypatch
) -> None:
    chat(store, "Before", "penguins")
    monkeypatch.setattr(search_module, "fts5_available", lambda conn: False)
    assert search_module.prepare(store.engine, store.path) is False
    with sqlite3.connect(store.path) as conn:
        triggers = conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        assert not {row[0] for row in triggers} & set(SEARCH_TRIGGERS)
    chat(store, "Meanwhile", "penguins too")
    assert set(titles(store.list_conversations("penguins"))) == {"Before", "Meanwhile"}
    monkeypatch.undo()  # FTS5 is back: the index is rebuilt, including what it missed
    assert search_module.prepare(store.engine, store.path) is True
    snippets = {r["title"]: r["snippet"] for r in store.list_conversations("penguins")}
    assert snippets == {"Before": "<mark>penguins</mark>", "Meanwhile": "<mark>penguins</mark> too"}


def test_triggers_lost_in_a_table_rebuild_are_restored(store: Store) -> None:
    with sqlite3.connect(store.path) as conn:
        conn.execute("DROP TRIGGER search_messages_ai")
    chat(store, "Unindexed", "walrus")
    assert search_module.prepare(store.engine, store.path) is True
    assert titles(store.list_conversations("walrus")) == ["Unindexed"]
    chat(store, "Indexed again", "walrus")
    assert set(titles(store.list_conversations("walrus"))) == {"Unindexed", "Indexed again"}


def test_rest_search_carries_snippets(runtime) -> None:
    store = runtime.services.store
    chat(store, "Birds", "Tell me about penguins")
    response = requests.get(
        runtime.url + "api/conversations",
        params={"q": "pengu"},
        headers={"Authorization": f"Bearer {runtime.token}"},
        timeout=10,
    )
    [result] = response.json()["conversations"]
    assert result["match"] == "message"
    assert result["snippet"] == "Tell me about <mark>penguins</mark>"
