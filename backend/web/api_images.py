"""Images for vision models: `POST /api/images` (the file's bytes as the body) stores an
upload and answers its id, which `chat.send` and `chat.edit` name in `images`;
`GET /api/images/ID` answers the image itself, for the UI to show under the token.

Uploads go by REST, not through the WebSocket, whose frames stop at 1 MiB.
"""

from __future__ import annotations

from flask import Blueprint, Response, request
from werkzeug.wsgi import get_input_stream

from backend.core.errors import BadRequest
from backend.core.store.images import MAX_IMAGE_BYTES, too_large
from backend.web.context import services

images_api = Blueprint("images_api", __name__, url_prefix="/api")
_READ = 1024 * 1024


@images_api.post("/images")
def upload_image():
    data = _read_image_body()
    if not data:
        raise BadRequest("The body is empty: send the image's bytes", code="unsupported_image")
    return services().store.add_image(bytes(data)), 201


@images_api.get("/images/<image_id>")
def get_image(image_id: str):
    mime, data = services().store.get_image(image_id)
    response = Response(data, mimetype=mime)
    # Opened on its own, it is an image and nothing else may run or load beside it.
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    return response


def _read_image_body() -> bytearray:
    """The body up to the image limit (not the app's 4 MiB); 413 once it passes it."""
    if (request.content_length or 0) > MAX_IMAGE_BYTES:
        raise too_large()
    stream = get_input_stream(request.environ, max_content_length=None)
    body = bytearray()
    while piece := stream.read(_READ):
        if len(body) + len(piece) > MAX_IMAGE_BYTES:
            raise too_large()
        body += piece
    return body
