"""The servers people run beside Ollama, where they listen by default, and a quick look at
which of them are running on this machine (for Settings and the first-run screen)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

from backend.core.errors import AppError
from backend.core.providers.openai import OpenAIClient

PROBE_TIMEOUT_S = 0.5  # a server on loopback answers /v1/models in milliseconds


@dataclass(frozen=True)
class Preset:
    name: str
    kind: str
    base_url: str
    needs_key: bool = False


PRESETS = (
    Preset("LM Studio", "openai", "http://127.0.0.1:1234/v1"),
    Preset("llama.cpp", "openai", "http://127.0.0.1:8080/v1"),
    Preset("vLLM", "openai", "http://127.0.0.1:8000/v1"),
    Preset("Jan", "openai", "http://127.0.0.1:1337/v1", needs_key=True),
    Preset("Ollama (OpenAI API)", "openai", "http://127.0.0.1:11434/v1"),
)


def discover(presets: tuple[Preset, ...] = PRESETS) -> list[dict[str, Any]]:
    """Every preset, with `running` (it answered /v1/models, or refused us a key) and
    the number of `models` it listed; all probed at once, each for at most half a second."""
    with ThreadPoolExecutor(max_workers=len(presets) or 1) as pool:
        return list(pool.map(_probe, presets))


def _probe(preset: Preset) -> dict[str, Any]:
    client = OpenAIClient(preset.base_url, connect_timeout=PROBE_TIMEOUT_S)
    running, models = False, None
    try:
        models = len(client.list_models(timeout=PROBE_TIMEOUT_S))
        running = True
    except AppError as exc:
        # An answer that asks for a key (Jan) still says the server is there.
        running = getattr(exc, "status", None) in (401, 403)
    finally:
        client.close()
    return {**asdict(preset), "running": running, "models": models}
