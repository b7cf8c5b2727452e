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


def static_files() -> dict[str, Path]:
    """URL path -> file, for the page's files only (no path from a request reaches the disk)."""
    files = {f"/{p.name}": p for p in STATIC_DIR.iterdir() if p.is_file()}
    files["/"] = STATIC_DIR / "index.html"
    return files


class HttpRoutes:
    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics
        self.files = static_files()

    def __call__(self, connection: ServerConnection, request: Request) -> Response | None:
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return None  # the WebSocket routes
        path = request.path.split("?", 1)[0]
        if path == "/healthz":
            return _response(HTTPStatus.OK, b'{"status":"ok"}\n', "application/json")
        if path == "/metrics":
            body = self.metrics.render().encode()
            return _response(HTTPStatus.OK, body, "text/plain; version=0.0.4")
        file = self.files.get(path)
        if file is None:
            return _response(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain")
        kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        return _response(HTTPStatus.OK, file.read_bytes(), kind, PAGE_HEADERS)


def _response(
    status: HTTPStatus, body: bytes, content_type: str, extra: dict[str, str] | None = None
) -> Response:
    headers = Headers(
        {"Content-Type": content_type, "Content-Length": str(len(body)), "Connection": "close"}
    )
    for name, value in (extra or {}).items():
        headers[name] = value
    return Response(status.value, status.phrase, headers, body)
