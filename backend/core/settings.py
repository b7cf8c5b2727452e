"""One settings object, built from flags, environment and defaults, and passed in."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import platformdirs

from backend.core.dir_errors import why_not_a_folder

APP_NAME = "CloudToLocalLLM"
DEFAULT_OLLAMA_URL = "http://127.0.0.1:11434"
DATA_DIR_ENV = "CLOUDTOLOCALLLM_DATA_DIR"
DB_FILENAME = "cloudtolocalllm.db"
# The longest message a user may send, in UTF-8 bytes.
MAX_CONTENT_BYTES = 1024 * 1024


class SettingsError(ValueError):
    """A setting that cannot be used; the message is one line meant for the user."""


@dataclass(frozen=True)
class Settings:
    mode: str = "desktop"  # "desktop", "web" or "headless"
    host: str = "127.0.0.1"
    port: int = 0
    ollama_url: str = DEFAULT_OLLAMA_URL
    # Whether --ollama-url or OLLAMA_HOST named it: then it wins over the saved setting.
    ollama_url_given: bool = False
    data_dir: Path = field(default_factory=lambda: Path(platformdirs.user_data_dir(APP_NAME)))
    # A cold model load can take minutes before the first token: never time out before that.
    ollama_read_timeout_s: float = 600.0
    ollama_connect_timeout_s: float = 3.0
    persist_interval_s: float = 0.25
    max_content_bytes: int = MAX_CONTENT_BYTES
    # --relay-url: remote access through this relay for this run (else the saved setting).
    relay_url: str | None = None

    @property
    def db_path(self) -> Path:
        return self.data_dir / DB_FILENAME

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"


def parse_ollama_host(value: str) -> str:
    """Turn OLLAMA_HOST-style input into a base URL, the way Ollama's envconfig.Host reads it.

    A bare host or host:port means http on port 11434; an explicit `http://` or `https://`
    without a port means 80 or 443, as in Ollama. A listen address (0.0.0.0, ::) is
    reached through loopback.
    """
    raw = value.strip().strip("\"'")
    if not raw:
        return DEFAULT_OLLAMA_URL
    scheme, sep, rest = raw.partition("://")
    if sep:
        scheme = scheme.lower()
        default_port = {"http": 80, "https": 443}.get(scheme, 11434)
    else:
        scheme, rest, default_port = "http", raw, 11434
    if scheme not in ("http", "https"):
        raise SettingsError(f"unsupported scheme {scheme!r} in Ollama URL {value!r}")
    hostport, slash, path = rest.partition("/")
    if _is_ipv6(hostport):  # a bare IPv6 address, as Ollama accepts
        hostport = f"[{hostport}]"
    parts = urlsplit(f"{scheme}://{hostport}{slash}{path}")
    try:
        port = parts.port or default_port
    except ValueError as exc:
        raise SettingsError(f"invalid port in Ollama URL {value!r}") from exc
    host = parts.hostname or "127.0.0.1"
    if host in ("0.0.0.0", "::"):
        host = "127.0.0.1"
    shown_host = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown_host}:{port}{parts.path.rstrip('/')}"


def _is_ipv6(text: str) -> bool:
    try:
        return ipaddress.ip_address(text).version == 6
    except ValueError:
        return False


def default_data_dir(env: dict[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    if env.get(DATA_DIR_ENV):
        return Path(env[DATA_DIR_ENV]).expanduser()
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def default_ollama_url(env: dict[str, str] | None = None) -> str:
    env = os.environ if env is None else env
    return parse_ollama_host(env.get("OLLAMA_HOST", ""))


def prepare_data_dir(path: Path) -> Path:
    """Create the data dir if missing and prove it is writable, or raise SettingsError."""
    path = path.expanduser().resolve()
    shared = _shared_folder_reason(path)
    if shared:
        raise SettingsError(
            f"cannot use data directory {path}: it is {shared}; "
            "choose a folder of the app's own (the app makes its files private)"
        )
    try:
        path.mkdir(parents=True, exist_ok=True)
        (path / "logs").mkdir(exist_ok=True)
        probe = path / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        reason = why_not_a_folder(exc)
        raise SettingsError(f"cannot use data directory {path}: {reason}") from exc
    return path


def _shared_folder_reason(path: Path) -> str | None:
    """Why `path` is a folder other things live in (the app would mix its data with them
    and make them private), or None. The root, the home folder and the folders above it."""
    if path == Path(path.anchor):
        return "the root of the file system"
    home = Path.home().resolve()
    if path == home:
        return "your home folder"
    if path in home.parents:
        return "a folder that holds home folders"
    return None
