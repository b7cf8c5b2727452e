"""The endpoints the user adds: stored 0600 without keys, keys in a keyring or a 0600
file, one client and monitor each, watched against a real FakeOpenAI."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from keyring.backend import KeyringBackend
from keyring.errors import KeyringLocked, PasswordDeleteError

from backend.core.endpoints import ApiKeys, EndpointService, EndpointStore, os_keyring
from backend.core.endpoints.presets import PRESETS, Preset, discover
from backend.core.errors import AppError, BadRequest, NotFound
from backend.core.events import EventBus
from backend.core.monitor import MonitorConfig
from backend.core.providers.openai import OpenAIClient
from backend.core.topics import ENDPOINT_STATUS
from tests.fake_openai import FakeOpenAI
from tests.waiting import eventually

KEY = "sk-test-4f9a"
LM_STUDIO = {"name": "LM Studio", "kind": "openai", "base_url": "http://127.0.0.1:1234/v1/"}


class MemoryKeyring(KeyringBackend):
    """An OS keyring as keyring's API sees one (the machines that run tests have none)."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.secrets: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.secrets.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.secrets[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.secrets.pop((service, username), None) is None:
            raise PasswordDeleteError(username)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_store_keeps_endpoints_in_a_user_only_file(data_dir: Path) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    store = EndpointStore(data_dir / "endpoints.json")
    added = store.add(LM_STUDIO)
    assert added.base_url == "http://127.0.0.1:1234/v1" and added.id.startswith("ep_")
    store.update(added.id, {"name": "LM Studio (desk)"})
    other = store.add({"name": "vLLM", "kind": "openai", "base_url": "https://gpu.lan:8000"})
    assert mode(store.path) == 0o600
    again = EndpointStore(data_dir / "endpoints.json")
    assert [(e.id, e.name) for e in again.list()] == [
        (added.id, "LM Studio (desk)"),
        (other.id, "vLLM"),
    ]
    again.remove(added.id)
    with pytest.raises(NotFound):
        EndpointStore(data_dir / "endpoints.json").get(added.id)


@pytest.mark.parametrize(
    "fields",
    [
        {**LM_STUDIO, "base_url": "127.0.0.1:1234"},
        {**LM_STUDIO, "base_url": "ftp://host/v1"},
        {**LM_STUDIO, "base_url": "http://user:pw@host:1234"},
        {**LM_STUDIO, "base_url": "http://host:port"},
        {**LM_STUDIO, "base_url": "http://host/v1?x=1"},
        {**LM_STUDIO, "base_url": 1234},
        {**LM_STUDIO, "kind": "anthropic"},
        {**LM_STUDIO, "name": "  "},
    ],
)
def test_store_refuses_bad_fields(data_dir: Path, fields: dict) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    store = EndpointStore(data_dir / "endpoints.json")
    with pytest.raises(BadRequest):
        store.add(fields)
    assert store.list() == [] and not store.path.exists()


def test_an_unreadable_file_is_set_aside(data_dir: Path) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "endpoints.json"
    path.write_text("{not json")
    assert EndpointStore(path).list() == []
    assert (data_dir / "endpoints.json.bad").read_text() == "{not json"


def test_keys_without_a_keyring_go_to_a_user_only_file(data_dir: Path) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    assert os_keyring() is None  # conftest: the null backend, as on a machine with none
    keys = ApiKeys(data_dir / "endpoint-keys.json", None)
    keys.set("ep_1", KEY)
    assert keys.where == "file" and mode(data_dir / "endpoint-keys.json") == 0o600
    assert ApiKeys(data_dir / "endpoint-keys.json", None).get("ep_1") == KEY
    keys.forget("ep_1")
    assert not keys.has("ep_1")


def test_keys_go_to_the_keyring_when_there_is_one(data_dir: Path) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    ring = MemoryKeyring()
    keys = ApiKeys(data_dir / "endpoint-keys.json", ring)
    keys.set("ep_1", KEY)
    assert keys.where == "keyring" and ring.secrets == {("CloudToLocalLLM", "endpoint:ep_1"): KEY}
    assert not (data_dir / "endpoint-keys.json").exists()
    assert keys.get("ep_1") == KEY
    keys.forget("ep_1")
    keys.forget("ep_1")  # twice: nothing there is no error
    assert ring.secrets == {} and keys.get("ep_1") is None


@pytest.fixture
def openai_server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake


def make_service(data_dir: Path, bus: EventBus, **extra) -> EndpointService:
    return EndpointService(
        EndpointStore(data_dir / "endpoints.json"),
        ApiKeys(data_dir / "endpoint-keys.json", None),
        bus,
        make_client=lambda e, key: OpenAIClient(e.base_url, api_key=key),
        ollama=lambda: ("http://127.0.0.1:11434", {"state": "connected"}),
        monitor_config=lambda url: MonitorConfig(heartbeat_s=0.2, backoff_cap_s=0.5),
        **extra,
    )


@pytest.fixture
def endpoints(data_dir: Path) -> Iterator[tuple[EndpointService, EventBus, list]]:
    data_dir.mkdir(parents=True, exist_ok=True)
    bus, published = EventBus(), []
    bus.subscribe(lambda event: published.append(event), topics=[ENDPOINT_STATUS])
    clients: dict = {}
    service = make_service(data_dir, bus, on_client=clients.__setitem__)
    service.clients = clients  # type: ignore[attr-defined]
    yield service, bus, published
    service.stop()
    bus.close()


def test_an_added_endpoint_is_watched_and_its_key_never_shown(
    endpoints, openai_server: FakeOpenAI, data_dir: Path
) -> None:
    service, _bus, published = endpoints
    openai_server.api_key = KEY
    view = service.add({"name": "Jan", "kind": "openai", "base_url": openai_server.url + "/v1",
                        "api_key": KEY})  # fmt: skip
    assert view["has_key"] is True and "api_key" not in view
    endpoint_id = view["id"]
    assert eventually(lambda: service.get(endpoint_id)["status"]["state"] == "connected")
    assert any(e.payload["endpoint_id"] == endpoint_id for e in published)
    assert [v["id"] for v in service.list()] == ["ollama", endpoint_id]
    assert service.clients[endpoint_id] is service.client(endpoint_id)
    assert [m.name for m in service.client(endpoint_id).list_models()] == ["llama3.2", "qwen3:8b"]
    files = {p.name: p.read_text() for p in data_dir.iterdir() if p.is_file()}
    assert [name for name, text in files.items() if KEY in text] == ["endpoint-keys.json"]
    assert KEY not in json.dumps(service.list())


def test_a_wrong_key_shows_as_an_error_state(endpoints, openai_server: FakeOpenAI) -> None:
    service, _bus, _published = endpoints
    openai_server.api_key = KEY
    view = service.add({"name": "Jan", "kind": "openai", "base_url": openai_server.url})
    assert eventually(lambda: service.get(view["id"])["status"]["state"] == "error")
    assert "401" in service.get(view["id"])["status"]["error"]
    service.update(view["id"], {"api_key": KEY})
    assert service.reconnect(view["id"])["status"]["state"] == "connected"


def test_a_server_that_is_down_is_disconnected_then_follows_an_edit(
    endpoints, openai_server: FakeOpenAI
) -> None:
    service, _bus, _published = endpoints
    with FakeOpenAI() as gone:
        dead_url = gone.url
    view = service.add({"name": "llama.cpp", "kind": "openai", "base_url": dead_url})
    assert eventually(lambda: service.get(view["id"])["status"]["state"] == "disconnected")
    service.update(view["id"], {"base_url": openai_server.url})
    assert eventually(lambda: service.get(view["id"])["status"]["state"] == "connected")
    assert service.get(view["id"])["status"]["endpoint"] == openai_server.url


def test_removing_stops_the_monitor_and_forgets_the_key(endpoints, openai_server) -> None:
    service, _bus, _published = endpoints
    view = service.add({**LM_STUDIO, "base_url": openai_server.url, "api_key": KEY})
    service.remove(view["id"])
    assert service.clients[view["id"]] is None
    with pytest.raises(NotFound):
        service.get(view["id"])
    assert [v["id"] for v in service.list()] == ["ollama"]
    with pytest.raises(BadRequest):
        service.remove("ollama")


def test_endpoints_come_back_after_a_restart(endpoints, openai_server, data_dir: Path) -> None:
    service, bus, _published = endpoints
    view = service.add({**LM_STUDIO, "base_url": openai_server.url, "api_key": KEY})
    service.stop()
    again = make_service(data_dir, bus)
    again.start()
    try:
        assert again.get(view["id"])["has_key"] is True
        assert eventually(lambda: again.get(view["id"])["status"]["state"] == "connected")
        assert "Bearer " + KEY in [
            r["headers"].get("authorization") for r in openai_server.requests
        ]
    finally:
        again.stop()


class LockedKeyring(MemoryKeyring):
    """A keyring the user has not unlocked: every call is refused."""

    def get_password(self, service: str, username: str) -> str | None:
        raise KeyringLocked("locked")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise KeyringLocked("locked")


def test_a_locked_keyring_falls_back_to_the_file(data_dir: Path, caplog) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    keys = ApiKeys(data_dir / "endpoint-keys.json", LockedKeyring())
    keys.set("ep_1", KEY)
    assert keys.get("ep_1") == KEY and mode(data_dir / "endpoint-keys.json") == 0o600
    assert "KeyringLocked" in caplog.text and KEY not in caplog.text


def test_an_endpoint_whose_key_cannot_be_kept_is_not_added(endpoints, data_dir: Path) -> None:
    service, _bus, _published = endpoints
    (data_dir / "endpoint-keys.json").mkdir()  # the key file cannot be written
    with pytest.raises(AppError) as refused:
        service.add({**LM_STUDIO, "api_key": KEY})
    assert refused.value.code == "key_not_saved"
    assert [v["id"] for v in service.list()] == ["ollama"]


def test_discover_finds_the_servers_that_run(openai_server: FakeOpenAI) -> None:
    with FakeOpenAI() as jan, FakeOpenAI() as gone:
        jan.api_key, dead_url = KEY, gone.url
        gone.stop()
        found = discover(
            (
                Preset("LM Studio", "openai", openai_server.url + "/v1"),
                Preset("Jan", "openai", jan.url + "/v1", needs_key=True),
                Preset("vLLM", "openai", dead_url + "/v1"),
            )
        )
    assert [(p["name"], p["running"], p["models"]) for p in found] == [
        ("LM Studio", True, 2),
        ("Jan", True, None),  # it asked for a key: there, but not listed
        ("vLLM", False, None),
    ]


def test_presets_name_the_usual_ports() -> None:
    ports = {p.name: urlsplit(p.base_url).port for p in PRESETS}
    assert ports == {"LM Studio": 1234, "llama.cpp": 8080, "vLLM": 8000, "Jan": 1337,
                     "Ollama (OpenAI API)": 11434}  # fmt: skip
