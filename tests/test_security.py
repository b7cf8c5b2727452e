"""Loopback only, the per-launch token, Host and Origin checks, and a strict page policy."""

from __future__ import annotations

import http.client

import pytest
import requests


def raw_request(runtime, method, path, headers):
    """http.client lets a test send any Host header, as a rebinding attack would."""
    conn = http.client.HTTPConnection("127.0.0.1", runtime.server.port, timeout=5)
    conn.putrequest(method, path, skip_host=True)
    for name, value in headers.items():
        conn.putheader(name, value)
    conn.endheaders()
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response.status, body


@pytest.mark.parametrize(
    "path",
    ["/api/health", "/api/status", "/api/models", "/api/conversations", "/api/conversations/x"],
)
def test_no_token_is_401(runtime, path):
    response = requests.get(runtime.url + path.lstrip("/"), timeout=5)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    wrong = requests.get(
        runtime.url + path.lstrip("/"), headers={"Authorization": "Bearer nope"}, timeout=5
    )
    assert wrong.status_code == 401


def test_token_in_the_query_string_works(runtime):
    response = requests.get(runtime.url + f"api/health?token={runtime.token}", timeout=5)
    assert response.status_code == 200


def test_the_page_is_served_without_a_token_and_locked_down(runtime):
    page = requests.get(runtime.url, timeout=5)
    assert page.status_code == 200 and "<html" in page.text.lower()
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "object-src 'none'" in policy
    assert runtime.token not in page.text


def health_with_host(runtime, host: str) -> tuple[int, bytes]:
    """GET /api/health with the token and this Host header (its `{port}` filled in)."""
    host = host.format(port=runtime.server.port)
    headers = {"Host": host, "Authorization": f"Bearer {runtime.token}"}
    return raw_request(runtime, "GET", "/api/health", headers)


@pytest.mark.parametrize(
    "host", ["evil.example", "evil.example:{port}", "127.0.0.1:1", "localhost.evil.example:{port}"]
)
def test_foreign_host_is_403(runtime, host):
    status, body = health_with_host(runtime, host)
    assert status == 403 and b"forbidden_host" in body


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "[::1]:{port}"])
def test_loopback_hosts_are_accepted(runtime, host):
    status, _ = health_with_host(runtime, host)
    assert status == 200


def test_foreign_origin_cannot_change_state(runtime):
    headers = {"Authorization": f"Bearer {runtime.token}", "Origin": "http://evil.example"}
    created = requests.post(runtime.url + "api/conversations", json={}, headers=headers, timeout=5)
    assert created.status_code == 403
    assert created.json()["error"]["code"] == "forbidden_origin"
    assert runtime.services.store.list_conversations() == []
    own = {**headers, "Origin": runtime.url.rstrip("/")}
    assert (
        requests.post(
            runtime.url + "api/conversations", json={}, headers=own, timeout=5
        ).status_code
        == 201
    )


def test_binds_to_loopback_only(runtime):
    assert runtime.server.host == "127.0.0.1"
    assert runtime.url.startswith("http://127.0.0.1:")


def test_token_is_never_logged(runtime, data_dir):
    requests.get(runtime.url + f"api/health?token={runtime.token}", timeout=5)
    requests.get(runtime.url + "api/health?token=wrong", timeout=5)
    logs = "".join(p.read_text() for p in (data_dir / "logs").glob("*"))
    assert runtime.token not in logs
