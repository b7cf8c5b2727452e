"""Flags, environment and defaults become one Settings object."""

from __future__ import annotations

import pytest

from backend.core.settings import (
    DEFAULT_OLLAMA_URL,
    SettingsError,
    default_data_dir,
    default_ollama_url,
    parse_ollama_host,
    prepare_data_dir,
)
from backend.launcher.cli import build_parser, settings_from


@pytest.mark.parametrize(
    ("value", "url"),
    [
        ("", DEFAULT_OLLAMA_URL),
        ("localhost", "http://localhost:11434"),
        ("127.0.0.1:5000", "http://127.0.0.1:5000"),
        ("0.0.0.0", "http://127.0.0.1:11434"),
        ("0.0.0.0:8080", "http://127.0.0.1:8080"),
        ("gpu-box.lan", "http://gpu-box.lan:11434"),
        ("http://gpu-box.lan", "http://gpu-box.lan:80"),
        ("https://ollama.example.com", "https://ollama.example.com:443"),
        ("https://ollama.example.com:8443/", "https://ollama.example.com:8443"),
        ("http://proxy.lan:8080/ollama/", "http://proxy.lan:8080/ollama"),
        ("::1", "http://[::1]:11434"),
        ("[::1]:9000", "http://[::1]:9000"),
        ('  "localhost:1234"  ', "http://localhost:1234"),
        ("HTTP://Example.com:1", "http://example.com:1"),
    ],
)
def test_ollama_host_is_parsed_like_ollama(value, url):
    assert parse_ollama_host(value) == url


@pytest.mark.parametrize("value", ["ftp://x", "host:notaport", "host:99999"])
def test_bad_ollama_urls_are_refused_clearly(value):
    with pytest.raises(SettingsError) as caught:
        parse_ollama_host(value)
    assert value.strip() in str(caught.value)


def test_environment_defaults():
    assert default_ollama_url({"OLLAMA_HOST": "box:1"}) == "http://box:1"
    assert default_ollama_url({}) == DEFAULT_OLLAMA_URL
    assert str(default_data_dir({"CLOUDTOLOCALLLM_DATA_DIR": "/x/y"})) == "/x/y"
    assert default_data_dir({}).name == "CloudToLocalLLM"


def test_flags_win_over_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("OLLAMA_HOST", "envhost:1")
    args = build_parser().parse_args(
        ["--headless", "--port", "8123", "--ollama-url", "flaghost", "--data-dir", str(tmp_path)]
    )
    settings = settings_from(args)
    assert (settings.mode, settings.port, settings.ollama_url, settings.data_dir) == (
        "headless",
        8123,
        "http://flaghost:11434",
        tmp_path,
    )
    env_only = settings_from(build_parser().parse_args([]))
    assert env_only.ollama_url == "http://envhost:1" and env_only.mode == "desktop"


def test_data_dir_is_created_with_its_logs_folder(tmp_path):
    made = prepare_data_dir(tmp_path / "a" / "b")
    assert made.is_dir() and (made / "logs").is_dir()


def test_unusable_data_dir_names_the_path(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(SettingsError) as caught:
        prepare_data_dir(blocker / "data")
    assert str(blocker / "data") in str(caught.value)
