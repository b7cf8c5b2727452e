"""Endpoints: the model servers the user added beside the Ollama of `--ollama-url`."""

from backend.core.endpoints.config import KINDS, OLLAMA_ID, Endpoint
from backend.core.endpoints.keys import ApiKeys, os_keyring
from backend.core.endpoints.service import EndpointService
from backend.core.endpoints.store import EndpointStore

__all__ = [
    "KINDS",
    "OLLAMA_ID",
    "ApiKeys",
    "Endpoint",
    "EndpointService",
    "EndpointStore",
    "os_keyring",
]
