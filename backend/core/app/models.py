"""Models of the current provider (list, pull and delete, each change announced), and
the models of every endpoint."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from backend.core.chat.models import ModelCatalog
from backend.core.errors import AppError, BadRequest, NotFound
from backend.core.providers.base import Model, ModelManager, PullStream
from backend.core.providers.ollama import OllamaError
from backend.core.providers.registry import Endpoints
from backend.core.topics import MODELS_CHANGED


class ModelService:
    """The model catalogue of the default endpoint and the changes to it."""

    def __init__(
        self,
        endpoints: Endpoints,
        catalog: ModelCatalog,
        publish: Callable[[str, dict], None],
        on_change: Callable[[], None],
    ) -> None:
        self._endpoints = endpoints
        self._catalog = catalog
        self._publish = publish
        self._on_change = on_change  # the monitor recounts the models

    def list(self) -> list[Model]:
        return self._catalog.list(refresh=True)

    def list_all(self, endpoint_ids: list[str]) -> list[dict[str, Any]]:
        """The models of each endpoint that answers, each with its `endpoint_id`. When the
        default endpoint fails and no other answered, its error is raised (Ollama down
        with nothing else added stays a 503)."""
        found: list[dict[str, Any]] = []
        failure, answered = None, False
        for endpoint_id in endpoint_ids:
            try:
                models = self._catalog.list(refresh=True, endpoint_id=endpoint_id)
            except AppError as exc:
                if endpoint_id == self._endpoints.default:
                    failure = exc
                continue
            answered = True
            found += [{**model.to_dict(), "endpoint_id": endpoint_id} for model in models]
        if failure is not None and not answered:
            raise failure
        return found

    def pull(self, name: str) -> PullStream:
        """A download of `name`, started on its first read; `pulled(name)` once it ends well."""
        if not name.strip():
            raise BadRequest("`name` must not be empty", code="invalid_field")
        return self._manager().pull(name.strip())

    def pulled(self, name: str) -> None:
        self._changed("pulled", name)

    def delete(self, name: str) -> None:
        """Remove a model; names may hold `/` and `:` (`hf.co/org/m:q4`)."""
        try:
            self._manager().delete(name)
        except OllamaError as exc:
            # The server's own words, with our status: its 404 means "no such model".
            if exc.status == 404:
                raise NotFound(exc.message, code="model_not_found") from exc
            if exc.status == 400:
                raise BadRequest(exc.message, code=exc.code) from exc
            raise
        self._changed("deleted", name)

    def _manager(self) -> ModelManager:
        provider = self._endpoints.current()
        if not isinstance(provider, ModelManager):
            raise AppError("This server does not manage its models", code="unsupported")
        return provider

    def _changed(self, reason: str, name: str) -> None:
        """Tell open UIs to reload the model list, and have the monitor recount the models."""
        self._publish(MODELS_CHANGED, {"reason": reason, "name": name})
        self._on_change()
