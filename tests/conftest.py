"""Shared fixtures: a temp data dir for every test, the fake Ollama, and running backends."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.app_process import HeadlessApp
from tests.browser_support import browser  # noqa: F401  (a fixture for every module)
from tests.fake_ollama import FakeOllama
from tests.remote_fixtures import relay, remote_runtime  # noqa: F401  (fixtures)


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path_factory, monkeypatch) -> Path:
    """Never touch the user's real data: app data, caches and config all go to temp dirs."""
    home = tmp_path_factory.mktemp("home")
    for name in ("XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME"):
        path = home / name.lower()
        path.mkdir()
        monkeypatch.setenv(name, str(path))
    data_dir = home / "appdata"
    monkeypatch.setenv("CLOUDTOLOCALLLM_DATA_DIR", str(data_dir))
    # Nor the user's keyring: endpoint keys then go to the 0600 file in the data dir.
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    monkeypatch.delenv("OLLAMA_HOST", raising=False)
    return data_dir


@pytest.fixture
def fake(request: pytest.FixtureRequest) -> Iterator[FakeOllama]:
    """A fake server of this test's own: the module's `FAKE_SERVER` class (FakeOllama unless
    it says otherwise). Not shared between tests: a stream a previous test left behind would
    otherwise count its abort, or break a connection, in the next one."""
    with getattr(request.module, "FAKE_SERVER", FakeOllama)() as server:
        yield server


@pytest.fixture
def fake_ollama():
    fake = FakeOllama().start()
    yield fake
    fake.stop()


@pytest.fixture
def store(request: pytest.FixtureRequest, tmp_path: Path):
    """A store of its own in a temp dir: the module's `STORE_CLASS` (Store unless it names a
    subclass that counts or breaks writes; modules that clock it define their own)."""
    from backend.core.store import Store

    with getattr(request.module, "STORE_CLASS", Store)(tmp_path / "cloudtolocalllm.db") as opened:
        yield opened


@pytest.fixture
def chat(store, fake_ollama):
    """The chat service on `store`, talking to the fake Ollama; its replies stopped after."""
    from backend.core.chat import ChatService
    from backend.core.providers.ollama import OllamaClient

    service = ChatService(store, OllamaClient(fake_ollama.url))
    yield service
    service.shutdown()


@pytest.fixture
def data_dir(isolated_dirs) -> Path:
    return isolated_dirs


@pytest.fixture
def runtime(fake_ollama, data_dir):
    """The whole backend in this process: real services, real server thread."""
    from backend.core.settings import Settings, prepare_data_dir
    from backend.launcher.runtime import Runtime

    settings = Settings(
        mode="headless", ollama_url=fake_ollama.url, data_dir=prepare_data_dir(data_dir)
    )
    rt = Runtime(settings).start()
    yield rt
    rt.stop()


@pytest.fixture
def headless_app(fake_ollama, data_dir):
    """A factory: start the app as a subprocess against the fake Ollama; stopped after."""
    started: list[HeadlessApp] = []

    def start(*extra: str, env: dict[str, str] | None = None) -> HeadlessApp:
        args = ["--ollama-url", fake_ollama.url, "--data-dir", str(data_dir), *extra]
        app = HeadlessApp(args, data_dir, env).start()
        started.append(app)
        return app

    yield start
    for app in started:
        app.stop()
