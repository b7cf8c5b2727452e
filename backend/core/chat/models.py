"""Which model a message goes to: the one asked for, if Ollama has it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from backend.core.errors import AppError, BadRequest, NotFound
from backend.core.providers.base import Model
from backend.core.providers.errors import ProviderHTTPError, ProviderUnavailable
from backend.core.providers.registry import Endpoints


def same_model(requested: str, installed: str) -> bool:
    """Ollama's rule: a name without a tag means `:latest`."""

    def full(name: str) -> str:
        return name if ":" in name.rsplit("/", 1)[-1] else f"{name}:latest"

    return full(requested) == full(installed)


class ModelCatalog:
    """The installed models of each endpoint, cached briefly so a send costs no extra
    round trip; an endpoint pointed at another server starts a fresh cache."""

    def __init__(
        self,
        endpoints: Endpoints,
        *,
        ttl_s: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._endpoints = endpoints
        self._ttl_s, self._clock = ttl_s, clock
        self._lock = threading.Lock()
        # endpoint id -> (when listed, the provider asked, its models)
        self._cached: dict[str, tuple[float, object, list[Model]]] = {}

    def list(self, *, refresh: bool = False, endpoint_id: str | None = None) -> list[Model]:
        endpoint_id = endpoint_id or self._endpoints.default
        provider = self._endpoints.get(endpoint_id)
        with self._lock:
            cached = self._cached.get(endpoint_id)
        fresh = cached and cached[1] is provider and self._clock() - cached[0] < self._ttl_s
        if fresh and not refresh:
            return cached[2]
        models = provider.list_models(timeout=5.0)
        with self._lock:
            self._cached[endpoint_id] = (self._clock(), provider, models)
        return models

    def resolve(self, requested: str | None, endpoint_id: str | None = None) -> str:
        """The model to use, or an AppError the user can act on."""
        if requested is not None and (not isinstance(requested, str) or not requested.strip()):
            raise BadRequest("`model` must be a non-empty string", code="invalid_field")
        try:
            models = self.list(endpoint_id=endpoint_id)
            if requested is None:
                if not models:
                    raise BadRequest(
                        "No models yet — pull one with `ollama pull llama3.2`", code="no_models"
                    )
                return models[0].name
            if not any(same_model(requested, m.name) for m in models):
                models = self.list(refresh=True, endpoint_id=endpoint_id)
        except (ProviderUnavailable, ProviderHTTPError) as exc:
            if requested is None:
                raise AppError(f"Can't choose a model: {exc.message}", code=exc.code) from exc
            return requested  # the send will fail and be stored as such, the text kept
        if not any(same_model(requested, m.name) for m in models):
            hint = f"run `ollama pull {requested}`"
            if self._endpoints.get(endpoint_id or self._endpoints.default).kind != "ollama":
                hint = "load it in that server, or pick one it lists"
            raise NotFound(f"Model {requested!r} isn't installed — {hint}", code="model_not_found")
        return requested
