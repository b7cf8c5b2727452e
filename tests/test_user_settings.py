"""User settings: saved in the data dir, validated, applied live, launch flags win."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import requests

from backend.core.errors import AppError
from backend.core.services import build_services
from backend.core.settings import DEFAULT_OLLAMA_URL, Settings, prepare_data_dir
from backend.core.user_settings import DEFAULTS, UserSettings
from tests.fake_ollama import FakeOllama
from tests.wsclient import WsClient

VIEW_DEFAULTS = {
    "ollama_url": DEFAULT_OLLAMA_URL,
    "ollama_url_source": "default",
    "saved_ollama_url": None,
    "default_model": None,
    "theme": "system",
    "send_on_enter": True,
    "font_size": 14,
    "context_window": None,
}


class Api:
    def __init__(self, runtime) -> None:
        self.base = runtime.url + "api/settings"
        self.headers = {"Authorization": f"Bearer {runtime.token}"}

    def get(self) -> requests.Response:
        return requests.get(self.base, headers=self.headers, timeout=10)

    def patch(self, body) -> requests.Response:
        data = body if isinstance(body, str) else json.dumps(body)
        headers = {**self.headers, "Content-Type": "application/json"}
        return requests.patch(self.base, data=data, headers=headers, timeout=10)


@pytest.fixture
def api(runtime) -> Api:
    return Api(runtime)


@pytest.fixture
def other_ollama():
    fake = FakeOllama().start()
    yield fake
    fake.stop()


def user_settings(tmp_path: Path, **kwargs) -> UserSettings:
    kwargs.setdefault("launch_ollama_url", DEFAULT_OLLAMA_URL)
    return UserSettings(tmp_path / "settings.json", **kwargs)


def test_fresh_settings_are_the_defaults(tmp_path: Path) -> None:
    assert user_settings(tmp_path).get() == VIEW_DEFAULTS
    assert not (tmp_path / "settings.json").exists()  # reading writes nothing


def test_rest_reads_and_saves(api: Api, runtime, fake_ollama) -> None:
    assert api.get().json() == {
        **VIEW_DEFAULTS,
        "ollama_url": fake_ollama.url,
        "ollama_url_source": "launch",
    }
    changed = api.patch({"theme": "dark", "send_on_enter": False, "font_size": 18})
    assert changed.status_code == 200
    assert (changed.json()["theme"], changed.json()["font_size"]) == ("dark", 18)
    assert api.get().json() == changed.json()
    saved = json.loads((runtime.settings.data_dir / "settings.json").read_text())
    assert saved == {**DEFAULTS, "theme": "dark", "send_on_enter": False, "font_size": 18}


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        ({"theme": "blue"}, "invalid_setting", "theme: must be light, dark or system"),
        ({"font_size": 11}, "invalid_setting", "font_size: must be a whole number from 12 to 22"),
        ({"font_size": 23}, "invalid_setting", "font_size: must be a whole number from 12 to 22"),
        ({"font_size": 14.0}, "invalid_setting", "font_size: must be a whole number from 12 to 22"),
        ({"font_size": True}, "invalid_setting", "font_size: must be a whole number from 12 to 22"),
        ({"send_on_enter": "yes"}, "invalid_setting", "send_on_enter: must be true or false"),
        ({"default_model": 3}, "invalid_setting", "default_model: must be a model name or null"),
        ({"ollama_url": "ftp://x"}, "invalid_setting",
         "ollama_url: unsupported scheme 'ftp' in Ollama URL 'ftp://x'"),
        ({"ollama_url": "http://h:99999"}, "invalid_setting",
         "ollama_url: invalid port in Ollama URL 'http://h:99999'"),
        ({"theme": "dark", "colour": "red"}, "unknown_setting",
         "colour: unknown setting (known: ollama_url, default_model, theme, send_on_enter,"
         " font_size, context_window)"),
        ("[1]", "invalid_json", "The body must be a JSON object"),
        ("nope", "invalid_json",
         "The body is not valid JSON: Expecting value: line 1 column 1 (char 0)"),
    ],
)  # fmt: skip
def test_a_bad_change_is_400_naming_the_field_and_changes_nothing(
    api: Api, runtime, body, code, message
) -> None:
    api.patch({"font_size": 16})
    saved = (runtime.settings.data_dir / "settings.json").read_text()
    response = api.patch(body if isinstance(body, str) else {"send_on_enter": False, **body})
    assert response.status_code == 400
    assert response.json()["error"] == {"code": code, "message": message}
    assert api.get().json()["send_on_enter"] is True
    assert (runtime.settings.data_dir / "settings.json").read_text() == saved


def test_values_are_normalised(tmp_path: Path) -> None:
    settings = user_settings(tmp_path)
    view = settings.update({"ollama_url": "example.lan", "default_model": "  llama3.2  "})
    assert view["ollama_url"] == "http://example.lan:11434"
    assert view["default_model"] == "llama3.2"
    view = settings.update({"ollama_url": "  ", "default_model": ""})
    assert (view["ollama_url"], view["saved_ollama_url"], view["default_model"]) == (
        DEFAULT_OLLAMA_URL,
        None,
        None,
    )


def test_changes_are_announced(api: Api, runtime) -> None:
    ws = WsClient(runtime.url.replace("http://", "ws://") + f"ws?token={runtime.token}")
    ws.send({"type": "subscribe", "events": ["settings"]})
    ws.send({"type": "ping"})
    assert ws.recv()["type"] == "pong"
    view = api.patch({"theme": "light"}).json()
    assert ws.recv() == {"type": "settings.changed", "settings": view}
    api.patch({"theme": "light"})  # no change, no event
    api.patch({"font_size": 20})
    assert ws.recv()["settings"]["font_size"] == 20
    ws.close()


def test_a_new_ollama_url_applies_at_once(api: Api, runtime, other_ollama) -> None:
    response = api.patch({"ollama_url": other_ollama.url})
    assert response.json()["ollama_url_source"] == "saved"
    assert runtime.services.monitor.status()["endpoint"] == other_ollama.url
    ws = WsClient(runtime.url.replace("http://", "ws://") + f"ws?token={runtime.token}")
    frame = {"type": "chat.send", "request_id": "r", "conversation_id": None, "content": "hi"}
    ws.send({**frame, "model": "llama3.2"})
    assert ws.reply()[-1]["type"] == "complete"
    ws.close()
    assert len(other_ollama.chat_requests) == 1


def test_the_default_model_is_used_when_a_message_names_none(api: Api, runtime, fake_ollama):
    api.patch({"default_model": "llama3.2:latest"})
    ws = WsClient(runtime.url.replace("http://", "ws://") + f"ws?token={runtime.token}")
    ws.send({"type": "chat.send", "request_id": "r", "conversation_id": None, "content": "hi"})
    frames = ws.reply()
    ws.close()
    assert frames[0]["model"] == "llama3.2:latest"
    assert fake_ollama.chat_requests[-1]["model"] == "llama3.2:latest"


def services_for(data_dir: Path, ollama_url: str):
    settings = Settings(mode="headless", ollama_url=ollama_url, data_dir=data_dir)
    return build_services(settings, start_monitor=False)


def test_the_saved_url_is_used_at_the_next_launch(tmp_path: Path, fake_ollama) -> None:
    data_dir = prepare_data_dir(tmp_path / "data")
    (data_dir / "settings.json").write_text(json.dumps({"ollama_url": fake_ollama.url}))
    services = services_for(data_dir, DEFAULT_OLLAMA_URL)
    try:
        assert services.endpoints.current().base_url == fake_ollama.url
        assert services.monitor.check_now()["endpoint"] == fake_ollama.url
        assert services.user_settings.get()["ollama_url_source"] == "saved"
    finally:
        services.close()


def test_a_url_given_at_launch_wins_until_the_user_picks_one(
    tmp_path: Path, fake_ollama, other_ollama
) -> None:
    data_dir = prepare_data_dir(tmp_path / "data")
    (data_dir / "settings.json").write_text(json.dumps({"ollama_url": other_ollama.url}))
    services = services_for(data_dir, fake_ollama.url)
    try:
        view = services.user_settings.get()
        assert (view["ollama_url"], view["ollama_url_source"]) == (fake_ollama.url, "launch")
        assert view["saved_ollama_url"] == other_ollama.url
        assert services.endpoints.current().base_url == fake_ollama.url
        services.user_settings.update({"ollama_url": other_ollama.url})  # same as saved
        assert services.endpoints.current().base_url == other_ollama.url
        assert services.monitor.check_now()["endpoint"] == other_ollama.url
    finally:
        services.close()


def test_a_corrupt_file_is_set_aside(tmp_path: Path, caplog) -> None:
    path = tmp_path / "settings.json"
    path.write_text('{"theme": "dark", ')
    with caplog.at_level(logging.WARNING, logger="cloudtolocalllm.settings"):
        assert user_settings(tmp_path).get() == VIEW_DEFAULTS
    assert not path.exists()
    assert (tmp_path / "settings.json.bad").read_text() == '{"theme": "dark", '
    assert len(caplog.records) == 1 and "settings.json.bad" in caplog.records[0].getMessage()


def test_a_bad_field_in_the_file_falls_back_alone(tmp_path: Path, caplog) -> None:
    (tmp_path / "settings.json").write_text(json.dumps({"theme": "dark", "font_size": 99}))
    with caplog.at_level(logging.WARNING, logger="cloudtolocalllm.settings"):
        view = user_settings(tmp_path).get()
    assert (view["theme"], view["font_size"]) == ("dark", 14)
    assert len(caplog.records) == 1 and "font_size" in caplog.records[0].getMessage()


def test_saving_replaces_the_file_whole(tmp_path: Path) -> None:
    settings = user_settings(tmp_path)
    settings.update({"theme": "dark"})
    settings.update({"font_size": 13})
    assert [p.name for p in tmp_path.iterdir()] == ["settings.json"]  # no temp files left
    assert json.loads((tmp_path / "settings.json").read_text())["font_size"] == 13


def test_a_failed_save_changes_nothing(tmp_path: Path) -> None:
    (tmp_path / "settings.json").mkdir()  # cannot be replaced by a file
    settings = user_settings(tmp_path)
    with pytest.raises(AppError) as caught:
        settings.update({"theme": "dark"})
    assert caught.value.code == "settings_not_saved"
    assert settings.get()["theme"] == "system"
    assert [p.name for p in tmp_path.iterdir()] == ["settings.json"]
