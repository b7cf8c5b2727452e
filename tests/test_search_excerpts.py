"""Excerpts of long messages start reading near the first match (search_text._window's
skip-ahead): the excerpt must be exactly the one a read from the start gives."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.core.store import search_text
from backend.core.store.search_text import highlight_html, parse_query

WORDS = ["the", "error", "python", "quokka", "quokkas", "Quokka", "café", "cafe", "x", "_id"]
FILLER = ["lorem", "ipsum", "dolor", "sit", "amet", "K", "straße", "naïve", "日本"]
SEPARATORS = [" ", "  ", "\n", ", ", ". ", "-", "_", "/"]

words = st.lists(
    st.tuples(st.sampled_from(WORDS + FILLER * 6), st.sampled_from(SEPARATORS)),
    min_size=0,
    max_size=120,
).map(lambda pairs: "".join(word + sep for word, sep in pairs))
# A long plain lead-in makes the skip-ahead (from 64 characters on) happen.
texts = st.builds(lambda n, tail: "lorem ipsum, " * n + tail, st.integers(0, 60), words)
queries = st.lists(
    st.sampled_from(WORDS + ["quo", "caf", "error-python", "python error", "C++", "the*"]),
    min_size=1,
    max_size=3,
).map(" ".join)


def from_the_start(body: str, q: str) -> str:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(search_text, "_window", lambda f, p, w: search_text._read_window(f, p, w, 0))
        return highlight_html(body, parse_query(q))


@settings(max_examples=400, deadline=None)
@given(texts, queries)
def test_an_excerpt_is_the_one_a_read_from_the_start_gives(body, q):
    assert highlight_html(body, parse_query(q)) == from_the_start(body, q)


@pytest.mark.parametrize(
    "body, q",
    [
        ("lorem ipsum " * 100 + "the error python here", "error python"),
        ("lorem ipsum " * 100 + "Café au lait", "cafe"),
        ("lorém ipsum " * 100 + "quokka", "quok"),  # not ASCII before: read from the start
        ("lorem ipsum " * 100 + "python alone, then error python", "error python"),
        ("lorem ipsum " * 100, "quokka"),  # no match at all
        ("lorem ipsum " * 100 + "quokkas here, " + "lorem " * 30 + "quokka", "quokka"),
        ("lorem ipsum " * 100 + "xquokka quokkas quokka", "quokka!"),
    ],
    ids=["phrase", "folded", "not-ascii", "phrase-later", "no-match", "typed", "whole"],
)
def test_long_messages(body, q):
    fast = highlight_html(body, parse_query(q))
    assert fast == from_the_start(body, q)
    assert len(fast) < 200


def test_a_late_match_is_read_from_near_it():
    body = "lorem ipsum " * 1000 + "quokka"
    begin = search_text._skip_to_candidate(body, parse_query("quokka"))
    assert 0 < body.index("quokka") - begin < 100
