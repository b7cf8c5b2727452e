"""The user's settings over REST: `GET /api/settings` and `PATCH /api/settings`."""

from __future__ import annotations

from flask import Blueprint

from backend.web.bodies import json_object
from backend.web.context import services

settings_api = Blueprint("settings_api", __name__, url_prefix="/api")


@settings_api.get("/settings")
def get_settings():
    return services().user_settings.get()


@settings_api.patch("/settings")
def update_settings():
    return services().user_settings.update(json_object())
