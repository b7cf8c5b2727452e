"""Search excerpts read as the reply is shown (words, not Markdown) and always hold the match;
a hit on a version of a conversation that is not shown says so."""

from __future__ import annotations

import requests

from backend.core.store import Store, markdown_text
from backend.core.store.excerpts import message_excerpt, message_substring_excerpt
from backend.core.store.markdown_text import plain_text
from backend.core.store.search_text import parse_query

TABLE = """Here is the comparison you asked for:

| Model | Average | Stable? |
|:------|--------:|:-------:|
| llama3 | 4.2 s | **yes** |
| qwen2.5 | 3.9 s | _mostly_ |
"""

CODE = """Install it first:

```bash
pip install zebracorn --upgrade
```

Then call `zebracorn.run()` from *your* script.
"""


def text_of(parts: list[tuple[str, bool]]) -> str:
    return "".join(piece for piece, _ in parts)


def marked(parts: list[tuple[str, bool]]) -> list[str]:
    return [piece for piece, is_mark in parts if is_mark]


def excerpt(content: str, q: str, role: str = "assistant") -> list[tuple[str, bool]]:
    return message_excerpt(content, role, parse_query(q))


def test_a_table_reads_as_its_cells():
    parts = excerpt(TABLE, "stable")
    assert marked(parts) == ["Stable"]
    assert "|" not in text_of(parts) and "---" not in text_of(parts)
    assert text_of(excerpt(TABLE, "mostly")).endswith("3.9 s mostly")


def test_emphasis_markers_are_dropped_and_the_words_kept():
    parts = excerpt("They are **very** ~~slow~~ ***fast*** _swimmers_.", "fast")
    assert text_of(parts) == "They are very slow fast swimmers."
    assert marked(parts) == ["fast"]


def test_code_keeps_its_text_but_not_its_fences():
    parts = excerpt(CODE, "zebracorn")
    assert "```" not in text_of(parts) and "`" not in text_of(parts)
    assert text_of(parts).startswith(
        "…first: bash pip install zebracorn --upgrade Then call zebracorn.run()"
    )
    assert marked(parts) == ["zebracorn", "zebracorn"]


def test_inside_a_fence_markup_is_code_and_kept():
    words = plain_text("```\n| a | b |\n**x** # y\n```\n**z**").split()
    assert words == ["|", "a", "|", "b", "|", "**x**", "#", "y", "z"]


def test_links_images_headings_lists_quotes_and_tags_become_words():
    md = "## Why *penguins*?\n> - [x] see [the guide](http://x.org/p) ![a chart](c.png)<br>ok"
    assert plain_text(md).split() == "Why penguins? see the guide a chart ok".split()


def test_symbols_in_words_and_expressions_are_not_emphasis():
    assert plain_text("snake_case_name and a * b * c") == "snake_case_name and a * b * c"
    assert plain_text("a*b*c, as rendered") == "abc, as rendered"  # CommonMark: a<em>b</em>c


def test_a_user_message_is_excerpted_as_typed():
    assert text_of(excerpt("Why does **this** fail?", "fail", role="user")) == (
        "Why does **this** fail?"
    )


def test_a_match_only_in_a_link_address_still_shows():
    parts = excerpt("See [the docs](https://example.org/quokka) for more.", "quokka")
    assert marked(parts) == ["quokka"]


def test_the_substring_fallback_reads_words_too():
    parts = message_substring_excerpt("| 🐧 | **cute** |\n|---|---|", "assistant", "🐧")
    assert text_of(parts) == "🐧 cute"
    # The markup itself asked for: found in the text as written.
    assert marked(message_substring_excerpt("a **b** c", "assistant", "**")) == ["**"]


def test_a_long_lead_word_does_not_push_the_match_out_of_the_first_line():
    url = "https://example.org/" + "very-long-path-segment/" * 4
    parts = excerpt(f"one two three {url} penguin and more words after it", "penguin")
    lead = text_of(parts).split("penguin")[0]
    assert lead.startswith("…") and len(lead) < 45
    assert marked(parts) == ["penguin"]


def test_a_match_near_the_end_of_a_long_reply_is_shown(monkeypatch):
    rows = "".join(f"| row {i} | **{i * 7}** | ok |\n" for i in range(3000))
    reply = "# Results\n\n| name | value | state |\n|---|---|---|\n" + rows
    reply += "\nIn the end the **zebracorn** wins by a wide margin, as the table shows.\n"
    parts = excerpt(reply, "zebracorn")
    assert marked(parts) == ["zebracorn"]
    assert text_of(parts).startswith("…")
    assert "**" not in text_of(parts) and "|" not in text_of(parts)
    # Only the lines near the match were converted, and gave what the whole reply gives.
    monkeypatch.setattr(markdown_text, "NEAR_BEFORE", 10**9)
    assert excerpt(reply, "zebracorn") == parts


def test_a_slice_that_starts_inside_a_fence_keeps_the_code_as_code(monkeypatch):
    code = "\n".join(f"x{i} = **kwargs | y" for i in range(400))
    reply = f"Intro\n\n```python\n{code}\nquokka = 1\n```\n\nDone."
    near = excerpt(reply, "quokka")
    assert "quokka = 1" in text_of(near)
    monkeypatch.setattr(markdown_text, "NEAR_BEFORE", 10**9)
    assert excerpt(reply, "quokka") == near


# -- versions not shown ---------------------------------------------------------------------


def regenerated(store: Store) -> tuple[str, dict[str, str]]:
    """A question with two answers; the second (newer) one is shown."""
    conversation = store.create_conversation("Birds")
    cid = conversation["id"]
    question = store.add_message(cid, "user", "Tell me about birds")
    old = store.add_message(cid, "assistant", "Albatrosses glide for hours.")
    new = store.add_message(cid, "assistant", "Puffins dive.", parent_id=question["id"])
    return cid, {"question": question["id"], "old": old["id"], "new": new["id"]}


def test_a_hit_on_a_version_not_shown_is_flagged(store: Store):
    cid, ids = regenerated(store)
    [hit] = store.list_conversations("albatrosses")
    assert (hit["message_id"], hit["hidden_branch"]) == (ids["old"], True)
    [hit] = store.list_conversations("puffins")
    assert (hit["message_id"], hit["hidden_branch"]) == (ids["new"], False)
    [hit] = store.list_conversations("birds tell")  # on every version's path
    assert hit["hidden_branch"] is False
    store.activate_message(ids["old"])
    assert store.list_conversations("albatrosses")[0]["hidden_branch"] is False
    assert store.list_conversations("puffins")[0]["hidden_branch"] is True


def test_a_flag_for_every_hit_of_a_page(store: Store):
    for _ in range(3):
        regenerated(store)
    chat = store.create_conversation("Plain")
    store.add_message(chat["id"], "user", "albatrosses everywhere")
    hits = store.list_conversations("albatrosses")
    assert sorted(h["hidden_branch"] for h in hits) == [False, True, True, True]


def test_rest_search_flags_a_hit_in_another_version(runtime):
    cid, ids = regenerated(runtime.services.store)
    headers = {"Authorization": f"Bearer {runtime.token}"}
    url = runtime.url + "api/conversations"
    [hit] = requests.get(url, params={"q": "albatro"}, headers=headers, timeout=10).json()[
        "conversations"
    ]
    assert hit["match"] == "message" and hit["message_id"] == ids["old"]
    assert hit["hidden_branch"] is True
    assert hit["snippet_parts"] == [
        {"text": "Albatrosses", "mark": True},
        {"text": " glide for hours.", "mark": False},
    ]
    activated = requests.post(
        runtime.url + f"api/messages/{ids['old']}/activate", headers=headers, timeout=10
    )
    assert activated.status_code == 200
    [hit] = requests.get(url, params={"q": "albatro"}, headers=headers, timeout=10).json()[
        "conversations"
    ]
    assert hit["hidden_branch"] is False


def test_the_substring_fallback_flags_versions_too(store: Store):
    cid = store.create_conversation("Emoji")["id"]
    question = store.add_message(cid, "user", "Draw a bird")
    old = store.add_message(cid, "assistant", "| bird | 🐧 |\n|---|---|")
    store.add_message(cid, "assistant", "A bird.", parent_id=question["id"])
    [hit] = store.list_conversations("🐧")  # no letters: the text is scanned
    assert (hit["message_id"], hit["hidden_branch"]) == (old["id"], True)
    assert hit["snippet_parts"] == [{"text": "bird ", "mark": False}, {"text": "🐧", "mark": True}]
