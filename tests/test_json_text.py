"""`json_text.loads` (orjson, json as the fallback), which parses Ollama's lines and the
stored JSON columns, agrees with json.loads: same value or the same kind of error, for
ordinary lines and for the ones orjson refuses."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.core.json_text import loads as _loads

ODD_LINES = [
    b'{"message":{"content":"\\ud800"}}',  # a lone surrogate: json accepts it, orjson not
    b'{"eval_count":NaN}',
    b'{"eval_duration":Infinity}',
    b'{"x":1.5e999}',
    b' {"padded":true} ',
    b"[1,2,3]",
    b'"just a string"',
]
BROKEN_LINES = [b"{not json", b'{"a":1}{"b":2}', b'{"a":"\xff"}', b"\xef\xbb\xbf{}x", b"{"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@given(json_values)
def test_any_line_json_writes_parses_as_json_loads_parses_it(value):
    line = json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")
    assert _loads(line) == json.loads(line)


@pytest.mark.parametrize("line", ODD_LINES)
def test_lines_orjson_refuses_still_parse_as_json_loads_parses_them(line):
    got, expected = _loads(line), json.loads(line)
    assert json.dumps(got) == json.dumps(expected)  # NaN != NaN, but its text is the same


@pytest.mark.parametrize("line", BROKEN_LINES)
def test_broken_lines_raise_a_value_error(line):
    with pytest.raises(ValueError):
        json.loads(line)
    with pytest.raises(ValueError):
        _loads(line)
