"""Model management over REST: `DELETE /api/models/<name>` (listing stays in api.py)."""

from __future__ import annotations

from flask import Blueprint

from backend.web.context import services

models_api = Blueprint("models_api", __name__, url_prefix="/api")


@models_api.delete("/models/<path:name>")
def delete_model(name: str):
    """Remove a model; names may hold `/` and `:` (`hf.co/org/m:q4`)."""
    services().models.delete(name)
    return "", 204
