"""The app itself, as a second launch sees it: `POST /api/app/show` brings its window forward."""

from __future__ import annotations

from flask import Blueprint, current_app

from backend.core.errors import AppError, BadRequest
from backend.launcher.single_instance import SHOW_TOPIC
from backend.web.bodies import json_object

app_api = Blueprint("app_api", __name__, url_prefix="/api/app")


class NoWindow(AppError):
    code = "no_window"
    http_status = 409


@app_api.post("/show")
def show():
    """202 once the request is passed on; the window comes forward on its own thread."""
    body = json_object(allow_empty=True)
    new_chat = body.get("new_chat", False)
    if not isinstance(new_chat, bool):
        raise BadRequest("`new_chat` must be true or false", code="invalid_field")
    services = current_app.extensions["cloudtolocalllm"]
    mode = services.settings.mode
    if mode == "headless":
        raise NoWindow("This CloudToLocalLLM runs without a window (--headless)")
    services.bus.publish(SHOW_TOPIC, {"new_chat": new_chat})
    return {"mode": mode, "new_chat": new_chat}, 202
