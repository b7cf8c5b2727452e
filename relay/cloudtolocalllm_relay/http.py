"""Plain HTTP on the relay's port: the phone's page, /healthz and /metrics."""

from __future__ import annotations

import mimetypes
from http import HTTPStatus
from pathlib import Path

from websockets.asyncio.server import ServerConnection
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from cloudtolocalllm_relay.metrics import Metrics

STATIC_DIR = Path(__file__).resolve().parent / "static"
# The desktop's own UI (frontend/, packaged with the relay through the `app` link), served
# under APP_PREFIX to a paired phone: it holds no secret, and its transport/pick.js chooses
# the tunnel for pages under this prefix.
APP_DIR = Path(__file__).resolve().parent / "app"
APP_PREFIX = "/app/"
mimetypes.add_type("application/manifest+json", ".webmanifest")
mimetypes.add_type("text/javascript", ".js")  # some systems map .js to text/plain
# The page holds no secret but handles keys: nothing may load from or frame it elsewhere.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; connect-src 'self'; img-src 'self' data:; "
        "style-src 'self'; script-src 'self'; manifest-src 'self'; frame-ancestors 'none'; "
        "base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}
# The desktop UI's own policy (its index.html says the same in a meta tag), framed nowhere.
APP_HEADERS = {
    **PAGE_HEADERS,
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob:; connect-src 'self'; manifest-src 'self'; "
        "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
}


def static_files() -> dict[str, Path]:
    """URL path -> file, for the page's files only (no path from a request reaches the disk)."""
    files = {f"/{p.name}": p for p in STATIC_DIR.iterdir() if p.is_file()}
    files["/"] = STATIC_DIR / "index.html"
    return files


def app_files() -> dict[str, Path]:
    """URL path -> file for the desktop's UI, walked once at start; none (404s) from a
    checkout made without symbolic links, where `app` is a plain file."""
    if not (APP_DIR / "index.html").is_file():
        return {}
    files = {
        APP_PREFIX + p.relative_to(APP_DIR).as_posix(): p for p in APP_DIR.rglob("*") if p.is_file()
    }
    files[APP_PREFIX] = APP_DIR / "index.html"
    return files


class HttpRoutes:
    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics
        self.files = static_files()
        self.app = app_files()

    def __call__(self, connection: ServerConnection, request: Request) -> Response | None:
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return None  # the WebSocket routes
        path = request.path.split("?", 1)[0]
        if path == "/healthz":
            return _response(HTTPStatus.OK, b'{"status":"ok"}\n', "application/json")
        if path == "/metrics":
            body = self.metrics.render().encode()
            return _response(HTTPStatus.OK, body, "text/plain; version=0.0.4")
        file, headers = self.files.get(path), PAGE_HEADERS
        if file is None:
            file, headers = self.app.get(path), APP_HEADERS
        if file is None:
            return _response(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain")
        kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        return _response(HTTPStatus.OK, file.read_bytes(), kind, headers)


def _response(
    status: HTTPStatus, body: bytes, content_type: str, extra: dict[str, str] | None = None
) -> Response:
    headers = Headers(
        {"Content-Type": content_type, "Content-Length": str(len(body)), "Connection": "close"}
    )
    for name, value in (extra or {}).items():
        headers[name] = value
    return Response(status.value, status.phrase, headers, body)
