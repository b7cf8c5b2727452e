"""Model management over REST: `DELETE /api/models/<name>` (listing stays in api.py)."""

from __future__ import annotations

from flask import Blueprint, current_app

from backend.core.errors import BadRequest, NotFound
from backend.core.providers.ollama import OllamaError

models_api = Blueprint("models_api", __name__, url_prefix="/api")


@models_api.delete("/models/<path:name>")
def delete_model(name: str):
    """Remove a model from Ollama; names may hold `/` and `:` (`hf.co/org/m:q4`)."""
    services = current_app.extensions["cloudtolocalllm"]
    try:
        services.chat.client.delete(name)
    except OllamaError as exc:
        # Ollama's own words, with our status: its 404 means "no such model" to the UI.
        if exc.status == 404:
            raise NotFound(exc.message, code="model_not_found") from exc
        if exc.status == 400:
            raise BadRequest(exc.message, code=exc.code) from exc
        raise
    announce_models_changed(services, "deleted", name)
    return "", 204


def announce_models_changed(services, reason: str, name: str) -> None:
    """Tell open UIs to reload the model list, and have the monitor recount the models."""
    services.bus.publish("models.changed", {"reason": reason, "name": name})
    services.monitor.request_check()
