"""The endpoints over REST: `/api/endpoints` (list, add) and `/api/endpoints/ID` (read,
change, remove), `POST /api/endpoints/ID/connect` (check now: Settings' "Connect"), and
`GET /api/endpoints/presets` (the usual servers, and which of them run here)."""

from __future__ import annotations

from flask import Blueprint

from backend.core.endpoints.presets import discover
from backend.web.bodies import json_object
from backend.web.context import services

endpoints_api = Blueprint("endpoints_api", __name__, url_prefix="/api")


@endpoints_api.get("/endpoints")
def list_endpoints():
    return {"endpoints": services().endpoint_service.list()}


@endpoints_api.post("/endpoints")
def add_endpoint():
    return services().endpoint_service.add(json_object()), 201


@endpoints_api.get("/endpoints/presets")
def endpoint_presets():
    """The usual servers and whether each is running here (Settings, the first run)."""
    return {"presets": discover()}


@endpoints_api.get("/endpoints/<endpoint_id>")
def get_endpoint(endpoint_id: str):
    return services().endpoint_service.get(endpoint_id)


@endpoints_api.patch("/endpoints/<endpoint_id>")
def update_endpoint(endpoint_id: str):
    return services().endpoint_service.update(endpoint_id, json_object())


@endpoints_api.delete("/endpoints/<endpoint_id>")
def delete_endpoint(endpoint_id: str):
    services().endpoint_service.remove(endpoint_id)
    return "", 204


@endpoints_api.post("/endpoints/<endpoint_id>/connect")
def connect_endpoint(endpoint_id: str):
    return services().endpoint_service.reconnect(endpoint_id)
