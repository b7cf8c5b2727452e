"""What a new user meets when a flag cannot work: one line from the app, and a true reason."""

from __future__ import annotations

import errno
import socket
import stat
from pathlib import Path

import pytest

from backend.core.dir_errors import file_system_type
from backend.core.settings import SettingsError, prepare_data_dir
from backend.launcher.private_files import tighten
from backend.launcher.server import ServerThread
from tests.test_headless import cli

LINUX_MOUNTS = Path("/proc/self/mounts").is_file()


def one_error_line(result) -> str:
    assert result.returncode == 1 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("cloudtolocalllm: error: ")
    return lines[0]


def test_data_dir_on_a_regular_file_says_it_is_not_a_folder(tmp_path):
    regular = tmp_path / "notes.txt"
    regular.write_text("mine")
    line = one_error_line(cli("--headless", "--data-dir", str(regular)))
    assert line.endswith(f"{regular} exists and is not a folder")
    assert "File exists" not in line
    assert regular.read_text() == "mine"


def test_data_dir_below_a_regular_file_names_that_file(tmp_path):
    regular = tmp_path / "notes.txt"
    regular.write_text("mine")
    with pytest.raises(SettingsError) as caught:
        prepare_data_dir(regular / "deeper" / "data")
    assert str(caught.value).endswith(f"{regular} exists and is not a folder")


@pytest.mark.skipif(not LINUX_MOUNTS, reason="/proc is Linux's")
def test_data_dir_under_proc_says_proc_takes_no_folders():
    line = one_error_line(cli("--headless", "--data-dir", "/proc/cloudtolocalllm-data"))
    assert line.endswith("/proc does not allow new folders in it (a proc file system)")
    assert "No such file" not in line


@pytest.mark.skipif(not LINUX_MOUNTS, reason="the mount table is Linux's")
def test_file_system_type_is_read_from_the_mount_table(tmp_path):
    assert file_system_type(Path("/proc/self")) == "proc"
    # None where the table does not show the mount (in a chroot, "/" may not be listed).
    assert file_system_type(tmp_path) != "proc"


def test_a_port_in_use_is_the_apps_one_line():
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        line = one_error_line(cli("--headless", "--port", str(port)))
    assert line.endswith(f"error: cannot listen on 127.0.0.1:{port}: Address already in use")


def test_the_server_raises_on_a_port_in_use_instead_of_exiting():
    from flask import Flask

    with socket.create_server(("127.0.0.1", 0)) as taken:
        with pytest.raises(OSError) as caught:
            ServerThread(Flask(__name__), "127.0.0.1", taken.getsockname()[1])
    assert caught.value.errno == errno.EADDRINUSE


def test_the_server_serves_on_the_port_it_reports():
    from flask import Flask

    app = Flask(__name__)
    app.add_url_rule("/ping", "ping", lambda: "pong")
    server = ServerThread(app, "127.0.0.1", 0).start()
    try:
        with socket.create_connection(("127.0.0.1", server.port)) as client:
            client.sendall(b"GET /ping HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            reply = client.makefile("rb").read()
    finally:
        server.stop()
    assert reply.startswith(b"HTTP/1.1 200") and reply.endswith(b"pong")


@pytest.mark.parametrize("where", ["/", "~", "~/.."])
def test_a_data_dir_shared_with_other_files_is_refused(where):
    folder = Path(where).expanduser().resolve()
    line = one_error_line(cli("--headless", "--data-dir", where))
    assert f"cannot use data directory {folder}: it is " in line
    assert "choose a folder of the app's own" in line


def test_first_use_of_a_folder_with_files_leaves_them_alone(tmp_path):
    folder = tmp_path / "documents"
    folder.mkdir()
    letter = folder / "letter.txt"
    letter.write_text("mine")
    letter.chmod(0o644)
    tighten(folder)
    assert stat.S_IMODE(letter.stat().st_mode) == 0o644
