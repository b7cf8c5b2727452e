"""The tray follows the endpoint in use: the conversation used last's, else Ollama's, named
when there are several; "Reconnect now" checks that one. Real services (the fake Ollama
and a real FakeOpenAI as LM Studio), pystray's dummy backend."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from backend.core.endpoints import ApiKeys, EndpointService, EndpointStore
from backend.core.endpoints.in_use import EndpointInUse, last_used_endpoint
from backend.core.events import EventBus
from backend.core.monitor import MonitorConfig
from backend.core.providers.openai import OpenAIClient
from backend.desktop.tray import Tray
from backend.desktop.tray_text import status_line, tooltip_for
from tests.fake_openai import FakeOpenAI
from tests.test_endpoints import MemoryKeyring
from tests.test_tray import Recorder, dummy_pystray  # noqa: F401  (a fixture)
from tests.waiting import eventually


@pytest.fixture
def lm_studio() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


@pytest.fixture
def in_use(runtime) -> EndpointInUse:
    services = runtime.services
    return EndpointInUse(
        services.endpoint_service,
        lambda: last_used_endpoint(services.store.list_conversations),
        services.monitor.request_check,
    )


@pytest.fixture
def tray(dummy_pystray, runtime, in_use) -> Iterator[tuple[Tray, Recorder]]:  # noqa: F811
    recorder = Recorder()
    recorder.actions.reconnect = in_use.request_check
    tray = Tray(
        runtime.services.bus, recorder.actions, in_use.status(), status_source=in_use.status
    )
    yield tray, recorder
    tray.stop()


def add_lm_studio(service: EndpointService, server: FakeOpenAI) -> str:
    fields = {"name": "LM Studio", "kind": "openai", "base_url": f"{server.url}/v1"}
    return service.add(fields)["id"]


def shows(tray: Tray, line: str) -> bool:
    return tray.flush(timeout=5) and list(tray.icon.menu)[0].text.startswith(line)


def test_with_ollama_alone_the_words_do_not_change(runtime, in_use):
    assert eventually(lambda: in_use.status()["state"] == "connected")
    status = in_use.status()
    assert status["endpoint_id"] == "ollama" and "name" not in status
    assert status_line(status).startswith("● Connected")
    assert tooltip_for(status).startswith("CloudToLocalLLM — Connected to Ollama")


def test_the_tray_follows_the_last_used_conversations_endpoint(runtime, lm_studio, tray):
    tray, _recorder = tray
    services = runtime.services
    endpoint_id = add_lm_studio(runtime.services.endpoint_service, lm_studio)
    # Several endpoints: the default one (no conversation yet) is named.
    assert eventually(lambda: shows(tray, "● Ollama · Connected"))
    services.conversations.create({"title": "LM chat", "endpoint_id": endpoint_id})
    assert eventually(lambda: shows(tray, "● LM Studio · Connected"))
    host = lm_studio.url.removeprefix("http://")
    assert tray.icon.title.startswith(f"CloudToLocalLLM — Connected to LM Studio at {host}/v1")
    assert tray.status["endpoint_id"] == endpoint_id

    lm_studio.stop()
    services.endpoint_service.reconnect(endpoint_id)
    assert eventually(lambda: shows(tray, "◐ LM Studio · Reconnecting"))
    assert tray.icon.title.startswith(f"CloudToLocalLLM — Reconnecting to {host}/v1")

    # A newer conversation on Ollama moves the tray back to Ollama.
    services.conversations.create({"title": "Ollama chat", "endpoint_id": "ollama"})
    assert eventually(lambda: shows(tray, "● Ollama · Connected"))


def test_removing_the_endpoint_in_use_falls_back_to_ollama_unnamed(runtime, lm_studio, tray):
    tray, _recorder = tray
    endpoint_id = add_lm_studio(runtime.services.endpoint_service, lm_studio)
    runtime.services.conversations.create({"title": "LM chat", "endpoint_id": endpoint_id})
    assert eventually(lambda: shows(tray, "● LM Studio · Connected"))
    runtime.services.endpoint_service.remove(endpoint_id)
    assert eventually(lambda: shows(tray, "● Connected"))
    assert tray.status["endpoint_id"] == "ollama" and "name" not in tray.status


def test_reconnect_now_checks_the_endpoint_in_use(dummy_pystray, data_dir, lm_studio):  # noqa: F811
    # Heartbeats an hour apart: a check of a connected endpoint is Reconnect's, or none.
    data_dir.mkdir(parents=True, exist_ok=True)
    bus, keyring = EventBus(), CountingKeyring()
    service = EndpointService(
        EndpointStore(data_dir / "endpoints.json"),
        ApiKeys(data_dir / "endpoint-keys.json", keyring),
        bus,
        make_client=lambda e, key: OpenAIClient(e.base_url, api_key=key),
        ollama=lambda: ("http://127.0.0.1:11434", {"state": "connected"}),
        monitor_config=lambda url: MonitorConfig(heartbeat_s=3600),
    )
    last_used: list[str | None] = [None]
    ollama_checks: list[str] = []
    in_use = EndpointInUse(service, lambda: last_used[0], lambda: ollama_checks.append("check"))
    recorder = Recorder()
    recorder.actions.reconnect = in_use.request_check
    tray = Tray(bus, recorder.actions, in_use.status(), status_source=in_use.status)
    try:
        last_used[0] = add_lm_studio(service, lm_studio)
        assert eventually(lambda: shows(tray, "● LM Studio · Connected"))
        listed = len(models_requests(lm_studio))
        reconnect = next(item for item in tray.icon.menu if item.text == "Reconnect now")
        reconnect(tray.icon)
        assert eventually(lambda: len(models_requests(lm_studio)) > listed)
        assert ollama_checks == []
        last_used[0] = "ollama"
        reconnect(tray.icon)
        assert ollama_checks == ["check"]
        # The tray reads the status on every change: never through the keyring.
        reads = keyring.reads
        in_use.status()
        assert keyring.reads == reads
    finally:
        tray.stop()
        service.stop()
        bus.close()


class CountingKeyring(MemoryKeyring):
    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    def get_password(self, service: str, username: str) -> str | None:
        self.reads += 1
        return super().get_password(service, username)


def models_requests(server: FakeOpenAI) -> list[dict]:
    return [r for r in server.requests if r["path"] == "/v1/models"]


@pytest.mark.parametrize(
    ("status", "line", "tip"),
    [
        (
            {"state": "connected", "name": "LM Studio", "endpoint": "http://127.0.0.1:1234/v1"},
            "● LM Studio · Connected",
            "Connected to LM Studio at 127.0.0.1:1234/v1",
        ),
        (
            {"state": "disconnected", "name": "vLLM", "endpoint": "http://gpu:8000"},
            "○ vLLM isn't running",
            "vLLM isn't running at gpu:8000",
        ),
        (
            {"state": "reconnecting", "name": "Jan", "next_retry_s": 1.2, "endpoint": "x:1"},
            "◐ Jan · Reconnecting in 2 s",
            "Reconnecting to x:1 in 2 s",
        ),
        (
            {"state": "error", "name": "LM Studio", "error": "HTTP 401: " + "x" * 80},
            "○ LM Studio · Error: HTTP 401: xxx",
            "Error from an unknown address: HTTP 401",
        ),
    ],
)
def test_named_words(status, line, tip):
    assert status_line(status).startswith(line) and len(status_line(status)) <= 60
    assert tooltip_for(status).startswith(f"CloudToLocalLLM — {tip}")
