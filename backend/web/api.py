"""The REST routes of the contract: health, status, models and conversations."""

from __future__ import annotations

from flask import Blueprint, Response, request

from backend import __version__
from backend.core.app import Download
from backend.web.bodies import json_object
from backend.web.context import open_sockets, services

api = Blueprint("api", __name__, url_prefix="/api")


@api.get("/health")
def health():
    return {
        "status": "ok",
        "version": __version__,
        "connection": services().monitor.status(),
        "ui_connections": open_sockets(),
    }


@api.get("/status")
def status():
    return services().monitor.status()


@api.post("/connection/reconnect")
def reconnect():
    monitor = services().monitor
    monitor.request_check()
    return monitor.status(), 202


@api.get("/models")
def models():
    app = services()
    return {"models": app.models.list_all(app.endpoint_service.reachable_ids())}


@api.get("/conversations")
def list_conversations():
    query = request.args.get("q", "").strip() or None
    return {"conversations": services().conversations.list(query)}


@api.post("/conversations")
def create_conversation():
    return services().conversations.create(json_object(allow_empty=True)), 201


@api.get("/conversations/<conversation_id>")
def get_conversation(conversation_id: str):
    return services().conversations.get(conversation_id)


@api.patch("/conversations/<conversation_id>")
def update_conversation(conversation_id: str):
    return services().conversations.update(conversation_id, json_object())


@api.delete("/conversations/<conversation_id>")
def delete_conversation(conversation_id: str):
    services().conversations.delete(conversation_id)
    return "", 204


@api.get("/conversations/<conversation_id>/export")
def export_conversation(conversation_id: str):
    fmt = request.args.get("format", "json")
    return download(services().conversations.export(conversation_id, fmt))


def download(file: Download) -> Response:
    """A file the browser saves rather than shows."""
    return Response(
        file.body,
        mimetype=f"{file.mimetype}; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{file.filename}"'},
    )
