"""The app itself, as a second launch sees it: `POST /api/app/show` brings its window forward."""

from __future__ import annotations

from flask import Blueprint

from backend.core.errors import BadRequest
from backend.web.bodies import json_object
from backend.web.context import services

app_api = Blueprint("app_api", __name__, url_prefix="/api/app")


@app_api.post("/show")
def show():
    """202 once the request is passed on; the window comes forward on its own thread."""
    body = json_object(allow_empty=True)
    new_chat = body.get("new_chat", False)
    if not isinstance(new_chat, bool):
        raise BadRequest("`new_chat` must be true or false", code="invalid_field")
    window = services().window
    window.show(new_chat)
    return {"mode": window.mode, "new_chat": new_chat}, 202
