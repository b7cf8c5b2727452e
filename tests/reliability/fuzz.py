"""Hypothesis settings and strategies for hostile input: any JSON, any code point."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

FUZZ = settings(
    max_examples=100,
    deadline=None,
    database=None,  # nothing written into the repository
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
CODE = re.compile(r"^[a-z][a-z0-9_]*$")  # an error's `code`

# Any code point, lone surrogates included: JSON can carry them ("\ud800"), UTF-8 cannot.
texts = st.text(st.characters(exclude_categories=())) | st.sampled_from(
    ["\ud800", "a\udfffb", "\x00", "\u202e\ufeff", "🦙" * 300, "x" * 501, " \t\n", ""]
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | texts,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=20,
)
