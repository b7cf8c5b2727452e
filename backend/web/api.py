"""The REST routes of the contract: health, status, models and conversations."""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Blueprint, Response, current_app, request

from backend import __version__
from backend.core.errors import BadRequest
from backend.core.export import conversation_markdown
from backend.web.bodies import json_object

api = Blueprint("api", __name__, url_prefix="/api")

EDITABLE_FIELDS = ("title", "model", "system_prompt", "options", "think")
# Each editable field's JSON type (besides null); `options` is checked key by key in the store.
_FIELD_TYPES = {"options": (dict, "an object"), "think": (bool, "true, false")}
MAX_TITLE_CHARS = 500


def _services():
    return current_app.extensions["cloudtolocalllm"]


@api.get("/health")
def health():
    return {
        "status": "ok",
        "version": __version__,
        "connection": _services().monitor.status(),
        "ui_connections": len(current_app.extensions["cloudtolocalllm.sockets"]),
    }


@api.get("/status")
def status():
    return _services().monitor.status()


@api.post("/connection/reconnect")
def reconnect():
    services = _services()
    services.monitor.request_check()
    return services.monitor.status(), 202


@api.get("/models")
def models():
    found = _services().chat.models.list(refresh=True)
    return {"models": [model.to_dict() for model in found]}


@api.get("/conversations")
def list_conversations():
    q = request.args.get("q", "").strip() or None
    return {"conversations": _services().store.list_conversations(q)}


@api.post("/conversations")
def create_conversation():
    fields = _conversation_fields(json_object(allow_empty=True))
    services = _services()
    conversation = services.store.create_conversation(**fields)
    services.bus.publish("conversation.created", conversation)
    return conversation, 201


@api.get("/conversations/<conversation_id>")
def get_conversation(conversation_id: str):
    return _services().store.get_conversation(conversation_id)


@api.patch("/conversations/<conversation_id>")
def update_conversation(conversation_id: str):
    fields = _conversation_fields(json_object())
    services = _services()
    conversation = services.store.update_conversation(conversation_id, **fields)
    services.bus.publish("conversation.updated", conversation)
    return conversation


@api.delete("/conversations/<conversation_id>")
def delete_conversation(conversation_id: str):
    services = _services()
    for reply in services.chat.active(conversation_id):
        services.chat.cancel(reply.message_id)
        reply.finished.wait(5)
    services.store.delete_conversation(conversation_id)
    services.bus.publish("conversation.deleted", {"id": conversation_id})
    return "", 204


@api.get("/conversations/<conversation_id>/export")
def export_conversation(conversation_id: str):
    fmt = request.args.get("format", "json")
    conversation = _services().store.get_conversation(conversation_id)
    stem = _filename_stem(conversation["title"])
    if fmt == "json":
        body = json.dumps(conversation, indent=2, ensure_ascii=False)
        mimetype, ext = "application/json", "json"
    elif fmt in ("markdown", "md"):
        body, mimetype, ext = conversation_markdown(conversation), "text/markdown", "md"
    else:
        raise BadRequest("`format` must be json or markdown", code="invalid_format")
    disposition = f'attachment; filename="{stem}.{ext}"'
    return Response(
        body, mimetype=f"{mimetype}; charset=utf-8", headers={"Content-Disposition": disposition}
    )


def _conversation_fields(body: dict[str, Any]) -> dict[str, Any]:
    unknown = set(body) - set(EDITABLE_FIELDS)
    if unknown:
        raise BadRequest(f"Unknown field(s): {', '.join(sorted(unknown))}", code="invalid_field")
    for name, value in body.items():
        kind, wording = _FIELD_TYPES.get(name, (str, "a string"))
        if value is not None and not isinstance(value, kind):
            raise BadRequest(f"`{name}` must be {wording} or null", code="invalid_field")
    if "title" in body:
        title = (body["title"] or "").strip()
        if not title:
            raise BadRequest("The title cannot be empty", code="invalid_field")
        if len(title) > MAX_TITLE_CHARS:
            raise BadRequest("The title is longer than 500 characters", code="invalid_field")
        body = {**body, "title": title}
    return body


def _filename_stem(title: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9\- ]+", "", title).strip().replace(" ", "-")[:60]
    return stem or "conversation"
