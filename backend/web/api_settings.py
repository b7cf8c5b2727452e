"""The user's settings over REST: `GET /api/settings` and `PATCH /api/settings`."""

from __future__ import annotations

from flask import Blueprint, current_app

from backend.web.bodies import json_object

settings_api = Blueprint("settings_api", __name__, url_prefix="/api")


@settings_api.get("/settings")
def get_settings():
    return current_app.extensions["cloudtolocalllm"].user_settings.get()


@settings_api.patch("/settings")
def update_settings():
    body = json_object()
    return current_app.extensions["cloudtolocalllm"].user_settings.update(body)
