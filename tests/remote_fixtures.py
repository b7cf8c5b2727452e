"""Fixtures for remote access: a relay process, and the app connected to it."""

from __future__ import annotations

import time

import pytest

from tests.relay_process import RelayProcess


@pytest.fixture
def relay(tmp_path):
    """A factory: start `cloudtolocalllm-relay` with these arguments; stopped after."""
    started: list[RelayProcess] = []

    def start(*args: str) -> RelayProcess:
        process = RelayProcess(tmp_path, *args).start()
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


def wait_for_state(remote, state: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while remote.status()["state"] != state:
        assert time.monotonic() < deadline, f"remote access never became {state}"
        time.sleep(0.02)


@pytest.fixture
def remote_runtime(fake_ollama, data_dir, relay):
    """The whole backend in this process, connected to a fresh relay."""
    from backend.core.settings import Settings, prepare_data_dir
    from backend.launcher.runtime import Runtime

    process = relay()
    settings = Settings(
        mode="headless",
        ollama_url=fake_ollama.url,
        data_dir=prepare_data_dir(data_dir),
        relay_url=process.url,
    )
    rt = Runtime(settings).start()
    rt.relay = process
    wait_for_state(rt.remote, "online")
    yield rt
    rt.stop()
