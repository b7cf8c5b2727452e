"""The endpoint in use where no conversation is open (the tray), and its status to show.

The window knows its open conversation, so its pill follows that conversation's endpoint;
the tray has none, so it follows the endpoint of the conversation used last (the one with
the newest `updated_at`), or the default (`ollama`) when there is none or that endpoint
was removed. Its STATUS carries the endpoint's `name` only when there are several
endpoints: with Ollama alone the words stay as they always were.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from backend.core.endpoints.config import OLLAMA_ID
from backend.core.endpoints.service import EndpointService


class EndpointInUse:
    """Which endpoint the tray speaks for; reads afresh on every call, from any thread."""

    def __init__(
        self,
        endpoints: EndpointService,
        last_used: Callable[[], str | None],
        request_ollama_check: Callable[[], None],
    ) -> None:
        self._endpoints = endpoints
        self._last_used = last_used  # the endpoint id of the conversation used last
        self._request_ollama_check = request_ollama_check

    def endpoint_id(self) -> str:
        return self._view()[0]["id"]

    def status(self) -> dict[str, Any]:
        """STATUS of the endpoint in use, with its `endpoint_id`, and `name` when several."""
        view, count = self._view()
        status = dict(view["status"] or {"state": "connecting", "endpoint": view["base_url"]})
        status["endpoint_id"] = view["id"]
        if count > 1:
            status["name"] = view["name"]
        return status

    def _view(self) -> tuple[dict[str, Any], int]:
        """The in-use endpoint's summary (the Ollama one, listed first, by default) and
        how many endpoints there are."""
        views = self._endpoints.summaries()
        wanted = self._last_used() or OLLAMA_ID
        return next((v for v in views if v["id"] == wanted), views[0]), len(views)

    def request_check(self) -> None:
        """Check the endpoint in use now (the tray's "Reconnect now"); returns at once."""
        endpoint_id = self.endpoint_id()
        if endpoint_id == OLLAMA_ID:
            self._request_ollama_check()
        else:
            self._endpoints.request_check(endpoint_id)


def last_used_endpoint(list_conversations: Callable[..., list[dict[str, Any]]]) -> str | None:
    """The endpoint id of the conversation updated last, from the store's list call."""
    newest = list_conversations(limit=1)
    return newest[0].get("endpoint_id") if newest else None
