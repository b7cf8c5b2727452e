"""Item 6: nobody gets in. Every route of the running app, as a process, is tried without
the token, from a foreign Host (DNS rebinding) and a foreign Origin (cross-site requests
and WebSocket hijacking); the server listens on loopback only unless asked."""

from __future__ import annotations

import errno
import http.client
import json
import socket
import tempfile
from pathlib import Path

import pytest
import simple_websocket

from backend.core.services import build_services
from backend.core.settings import Settings
from backend.web import create_app
from tests.app_process import HeadlessApp
from tests.wsclient import WsClient

PLACEHOLDERS = {
    "conversation_id": "x",
    "message_id": "x",
    "endpoint_id": "x",
    "name": "x",
    "filename": "index.html",
    "device_id": "x",
    "image_id": "x",
}
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


def routes() -> list[tuple[str, str]]:
    """(method, path) for every route the app serves, ids filled with placeholders."""
    found = []
    # A real app on a throwaway data dir (this runs at collection, before any fixture).
    with tempfile.TemporaryDirectory() as data_dir:
        services = build_services(Settings(data_dir=Path(data_dir)), start_monitor=False)
        try:
            rules = list(create_app(services.settings, services).url_map.iter_rules())
        finally:
            services.close()
    for rule in rules:
        path = rule.rule
        for name in rule.arguments:
            path = path.replace(f"<{name}>", PLACEHOLDERS[name])
            path = path.replace(f"<path:{name}>", PLACEHOLDERS[name])
        found += [(method, path) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return found


ROUTES = routes()
# The one API route without the token: a browser opened by --web trades its single-use launch
# code for the token there (a wrong code is 401: tests/test_launch_codes.py).
CODE_EXCHANGE = ("POST", "/api/session/exchange")
API_ROUTES = [(m, p) for m, p in ROUTES if p.startswith("/api/") and (m, p) != CODE_EXCHANGE]
WRITES = [(m, p) for m, p in ROUTES if m in STATE_CHANGING]
ids = [f"{m} {p}" for m, p in ROUTES]


@pytest.fixture(scope="module")
def app(shared_app):
    return shared_app


def raw(
    app: HeadlessApp, method: str, path: str, headers: dict[str, str], address: str = "127.0.0.1"
) -> tuple[int, dict]:
    """Any Host header and body, as a rebinding page or a hand-made client would send."""
    conn = http.client.HTTPConnection(address, app.port, timeout=10)
    conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
    body = b"{}" if method in STATE_CHANGING else b""
    headers = {"Content-Type": "application/json", "Content-Length": str(len(body)), **headers}
    for name, value in headers.items():
        conn.putheader(name, value)
    conn.endheaders(body)
    response = conn.getresponse()
    data, allowed = response.read(), response.getheader("Access-Control-Allow-Origin")
    conn.close()
    assert allowed is None  # no route ever lends its answers to another origin
    try:
        return response.status, json.loads(data)
    except ValueError:
        return response.status, {}


def own_host(app: HeadlessApp) -> str:
    return f"127.0.0.1:{app.port}"


def conversation_count(app: HeadlessApp) -> int:
    return len(app.get("api/conversations")["conversations"])


def test_the_code_exchange_gives_nothing_without_a_live_code(app):
    host = {"Host": own_host(app)}
    for body in ({"code": "guess"}, {"code": app.token}):
        conn = http.client.HTTPConnection("127.0.0.1", app.port, timeout=10)
        data = json.dumps(body).encode()
        conn.request("POST", CODE_EXCHANGE[1], data, {**host, "Content-Type": "application/json"})
        response = conn.getresponse()
        answer = json.loads(response.read())
        conn.close()
        assert (response.status, answer["error"]["code"]) == (401, "invalid_code")
        assert "token" not in answer


@pytest.mark.parametrize(("method", "path"), API_ROUTES, ids=[f"{m} {p}" for m, p in API_ROUTES])
def test_every_api_route_needs_the_token(app, method, path):
    host = {"Host": own_host(app)}
    for credentials in (
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"Basic {app.token}"},
        {"Authorization": f"Bearer {app.token[:-1]}"},
        {"Cookie": f"token={app.token}"},
    ):
        status, body = raw(app, method, path, {**host, **credentials})
        assert (status, body["error"]["code"]) == (401, "unauthorized"), credentials
    status, body = raw(app, method, f"{path}?token=wrong", host)
    assert status == 401


def test_the_socket_needs_the_token(app):
    for query in ("", "?token=", "?token=wrong", f"?token={app.token.upper()}"):
        with pytest.raises(simple_websocket.ConnectionError) as refused:
            WsClient(app.url.replace("http://", "ws://") + "ws" + query)
        assert refused.value.status_code == 401


def test_the_page_is_public_but_holds_nothing(app):
    app.request("POST", "api/conversations", json={"title": "Private plans 7f3a"})
    for path in ("/", "/index.html", "/js/main.js"):
        response = app.request("GET", path, headers={"Authorization": ""})
        assert response.status_code == 200
        assert app.token not in response.text and "Private plans 7f3a" not in response.text


FOREIGN_HOSTS = [
    "evil.example",
    "evil.example:{port}",
    "127.0.0.1.evil.example:{port}",
    "localhost.evil.example:{port}",
    "127.0.0.1:1",
    "[::2]:{port}",
]


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=ids)
def test_a_foreign_host_is_refused_on_every_route(app, method, path):
    before = conversation_count(app)
    for host in FOREIGN_HOSTS:
        headers = {"Host": host.format(port=app.port), "Authorization": f"Bearer {app.token}"}
        status, body = raw(app, method, f"{path}?token={app.token}", headers)
        assert (status, body["error"]["code"]) == (403, "forbidden_host"), host
    assert conversation_count(app) == before


FOREIGN_ORIGINS = [
    "http://evil.example",
    "null",  # a sandboxed iframe, a file:// page, a data: URL
    "http://127.0.0.1:1",
    "https://127.0.0.1:{port}",
    "http://localhost.evil.example:{port}",
]


@pytest.mark.parametrize(("method", "path"), WRITES, ids=[f"{m} {p}" for m, p in WRITES])
def test_a_foreign_origin_cannot_change_anything(app, method, path):
    before = conversation_count(app)
    for origin in FOREIGN_ORIGINS:
        headers = {
            "Host": own_host(app),
            "Origin": origin.format(port=app.port),
            "Authorization": f"Bearer {app.token}",
        }
        status, body = raw(app, method, path, headers)
        assert (status, body["error"]["code"]) == (403, "forbidden_origin"), origin
    assert conversation_count(app) == before


def test_a_foreign_origin_cannot_open_the_socket(app):
    for origin in FOREIGN_ORIGINS:
        with pytest.raises(simple_websocket.ConnectionError) as refused:
            WsClient(app.ws_url, headers={"Origin": origin.format(port=app.port)})
        assert refused.value.status_code == 403, origin
    own = WsClient(app.ws_url, headers={"Origin": f"http://127.0.0.1:{app.port}"})
    assert own.recv(skip=())["type"] == "status"
    own.close()


def lan_address() -> str:
    """This machine's address on its network (no packet is sent)."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.1", 9))
        address = probe.getsockname()[0]
    except OSError:
        pytest.skip("this machine has no network address besides loopback")
    finally:
        probe.close()
    if address.startswith("127."):
        pytest.skip("this machine has no network address besides loopback")
    return address


def can_connect(address: str, port: int) -> bool:
    try:
        socket.create_connection((address, port), timeout=3).close()
    except OSError as exc:
        assert exc.errno == errno.ECONNREFUSED, exc
        return False
    return True


def test_it_listens_on_loopback_only_unless_asked(app, launch):
    address = lan_address()
    assert can_connect("127.0.0.1", app.port)
    assert not can_connect(address, app.port)
    asked = launch("--host", address)
    assert can_connect(address, asked.port) and not can_connect("127.0.0.1", asked.port)
    status, body = raw(asked, "GET", "/api/health", {"Host": f"{address}:{asked.port}"}, address)
    assert (status, body["error"]["code"]) == (401, "unauthorized")  # the token still rules
