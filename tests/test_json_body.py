"""The API's JSON bodies (orjson, falling back to Flask's provider) read back exactly as
Flask's own provider would have written them."""

from __future__ import annotations

import dataclasses
import datetime
import json

import pytest
from flask import Flask
from flask.json.provider import DefaultJSONProvider
from hypothesis import given
from hypothesis import strategies as st

from backend.web.json_body import FastJSONProvider

values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()  # beyond 64 bits too: orjson refuses those, Flask writes them
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet=st.characters(codec=None)),  # lone surrogates included
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@dataclasses.dataclass
class Point:
    x: int


@pytest.fixture(scope="module")
def providers() -> tuple[FastJSONProvider, DefaultJSONProvider]:
    app = Flask(__name__)
    return FastJSONProvider(app), DefaultJSONProvider(app)


@given(values)
def test_a_response_body_reads_back_as_flask_would_have_written_it(providers, value):
    fast, default = providers
    assert json.loads(fast.dumps(value, separators=(",", ":"))) == json.loads(
        default.dumps(value, separators=(",", ":"))
    )


def test_dates_and_dataclasses_are_written_the_flask_way(providers):
    fast, default = providers
    value = {"when": datetime.datetime(2026, 11, 26, 7, 0), "point": Point(1)}
    assert json.loads(fast.dumps(value)) == json.loads(default.dumps(value))
    assert json.loads(fast.dumps(value))["when"] == "Thu, 26 Nov 2026 07:00:00 GMT"


def test_a_non_finite_number_becomes_null_not_invalid_json(providers):
    # Flask writes `Infinity`/`NaN`, which no browser's JSON.parse accepts.
    assert providers[0].dumps([float("inf"), float("nan")]) == "[null,null]"


def test_an_unwritable_value_still_raises_type_error(providers):
    with pytest.raises(TypeError):
        providers[0].dumps({"x": object()})


def test_the_app_answers_with_utf8_bodies_in_insertion_order(runtime):
    import requests

    headers = {"Authorization": f"Bearer {runtime.token}"}
    url = runtime.url + "api/conversations"
    created = requests.post(url, json={"title": "Café ☕"}, headers=headers, timeout=10)
    assert created.status_code == 201, created.text
    assert "Café ☕".encode() in created.content  # orjson's UTF-8, not json's \u escapes
    assert list(created.json())[:2] == ["id", "title"]  # insertion order, not sorted
