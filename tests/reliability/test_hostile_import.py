"""A hostile export file: fields of the wrong type or size are 400s that name the field, a
body over the limit is 413 however it is sent, and a file of many tiny objects is refused
before its parse takes more than a small multiple of its size."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from backend.web import import_body

TINY_MESSAGES = 400_000  # {"role":"user","content":""}: ~30 bytes each, 13 MiB in all


def import_(app, body: bytes | object, **kwargs) -> requests.Response:
    data = body if isinstance(body, bytes) or callable(body) else json.dumps(body).encode()
    return app.request("POST", "api/import", data=data, **kwargs)


def one_message(**fields) -> dict:
    message = {"role": "user", "content": "hi", **fields}
    return {"title": "t", "messages": [message]}


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"role": ["user"]}, "messages[0].role"),
        ({"role": {"user": 1}}, "messages[0].role"),
        ({"status": ["complete"]}, "messages[0].status"),
        ({"status": {}}, "messages[0].status"),
        ({"position": 2**64}, "messages[0].position"),
        ({"position": 2**63}, "messages[0].position"),
    ],
    ids=["role_list", "role_object", "status_list", "status_object", "position_2_64",
         "position_2_63"],
)  # fmt: skip
def test_a_field_of_the_wrong_type_or_size_is_a_400_naming_it(shared_app, fields, named):
    response = import_(shared_app, one_message(**fields))
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_import" and error["message"].startswith(named + ":")


def test_the_largest_position_sqlite_holds_is_imported(shared_app):
    response = import_(shared_app, one_message(position=2**63 - 1))
    assert response.status_code == 201, response.text


def test_a_chunked_body_over_the_limit_is_413(runtime, monkeypatch):
    monkeypatch.setattr(import_body, "IMPORT_MAX_BYTES", 100_000)
    document = json.dumps(one_message(content="x" * 200_000)).encode()

    def chunks():  # a generator: requests sends it chunked, with no Content-Length
        for start in range(0, len(document), 8192):
            yield document[start : start + 8192]

    response = requests.post(
        runtime.url + "api/import",
        data=chunks(),
        headers={"Authorization": f"Bearer {runtime.token}"},
        timeout=30,
    )
    assert response.status_code == 413, response.text
    assert response.json()["error"]["code"] == "import_too_large"


def peak_rss_kib(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmHWM:")).split()[1])


def test_a_file_of_many_tiny_messages_is_refused_within_a_small_multiple_of_its_size(launch):
    app = launch()
    messages = ",".join(['{"role":"user","content":""}'] * TINY_MESSAGES)
    body = ('{"title":"t","messages":[' + messages + "]}").encode()
    before = peak_rss_kib(app.pid)
    response = import_(app, body)
    grown = peak_rss_kib(app.pid) - before
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_import" and "than its size allows" in error["message"]
    assert grown * 1024 < 6 * len(body), (grown // 1024, len(body) // 2**20)
    assert app.get("api/conversations")["conversations"] == []  # all or nothing
