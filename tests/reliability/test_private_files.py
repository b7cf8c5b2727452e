"""Other users of the machine: the data dir is 0700 and every file in it 0600, as ssh and
gpg keep theirs, whatever the umask the app was started under, and for an older install."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tests.reliability.support import chat_send, collect_replies


@pytest.fixture
def lax_umask():
    """The common default: new files readable by everyone (umask is inherited)."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def modes(data: Path) -> dict[str, str]:
    found = {".": oct(stat.S_IMODE(data.stat().st_mode))}
    for path in data.rglob("*"):
        if not path.is_symlink():
            found[str(path.relative_to(data))] = oct(stat.S_IMODE(path.stat().st_mode))
    return found


def assert_private(data: Path) -> None:
    found = modes(data)
    for name in ("cloudtolocalllm.db", "cloudtolocalllm.db-wal", "cloudtolocalllm.db-shm"):
        assert name in found, found
    assert "logs/cloudtolocalllm.log" in found, found
    shared = {name: mode for name, mode in found.items() if int(mode, 8) & 0o077}
    assert shared == {}, shared


def test_a_new_data_dir_is_the_users_alone(lax_umask, launch, data_dir):
    app = launch()
    ws = app.ws()
    chat_send(ws, "a private question")
    collect_replies(ws, 1)
    saved = app.request("PATCH", "api/settings", json={"theme": "dark"})
    assert saved.status_code == 200 and (data_dir / "settings.json").exists()
    assert_private(data_dir)
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE((data_dir / "cloudtolocalllm.db").stat().st_mode) == 0o600
    ws.close()


def test_an_older_install_readable_by_others_is_tightened_at_start(lax_umask, launch, data_dir):
    app = launch()
    ws = app.ws()
    chat_send(ws, "a private question")
    collect_replies(ws, 1)
    ws.close()
    assert app.stop() == 0
    for path in [data_dir, *data_dir.rglob("*")]:  # as the app left it before this fix
        path.chmod(0o755 if path.is_dir() else 0o644)
    elsewhere = data_dir.parent / "elsewhere.txt"
    elsewhere.write_text("not the app's")
    elsewhere.chmod(0o644)
    (data_dir / "link-out").symlink_to(elsewhere)

    launch()
    assert_private(data_dir)
    assert stat.S_IMODE(elsewhere.stat().st_mode) == 0o644  # a link is not followed
