"""One app per data dir: the lock, its stale leftovers, and a second launch handing over."""
# Over 300 lines on purpose: one test per lock and hand-over case, sharing the process helpers.

from __future__ import annotations

import json
import os
import queue
import signal
import stat
import subprocess
import sys
import textwrap
import threading

import pytest
import requests

from backend.core.events import EventBus
from backend.core.topics import APP_SHOW
from backend.launcher.single_instance import (
    HandOverError,
    InstanceInfo,
    InstanceLock,
    ask_to_show,
    claim_or_find,
)
from tests.app_process import REPO
from tests.desktop_support import DesktopApp, Xvfb, have_desktop_tools
from tests.waiting import eventually, lines_when

HOLDER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from backend.launcher.single_instance import InstanceInfo, InstanceLock
    lock = InstanceLock(Path(sys.argv[1]))
    assert lock.acquire()
    lock.publish(InstanceInfo(pid=__import__("os").getpid(), url="http://127.0.0.1:9/",
                              token="t", mode="desktop"))
    print("locked", flush=True)
    sys.stdin.read()
    """
)


def launch(*args: str, data_dir, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """A second `cloudtolocalllm` on the same data dir, run to its end."""
    return subprocess.run(
        [sys.executable, "-m", "backend", "--data-dir", str(data_dir), *args],
        cwd=REPO,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=30,
    )


def info(pid: int | None = None) -> InstanceInfo:
    return InstanceInfo(pid=pid or os.getpid(), url="http://127.0.0.1:9/", token="t", mode="web")


def test_the_first_lock_wins_until_it_is_released(tmp_path):
    first, second = InstanceLock(tmp_path), InstanceLock(tmp_path)
    assert first.acquire()
    first.publish(info())
    assert not second.acquire()
    assert second.running() == info()
    first.release()
    assert not (tmp_path / "instance.json").exists()
    assert second.acquire() and second.running() is None


def test_a_killed_app_leaves_no_lock_and_its_address_is_forgotten(tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path)],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        lock = InstanceLock(tmp_path)
        assert not lock.acquire()
        assert lock.running().pid == holder.pid
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
    # The crash left both files behind; the OS dropped the lock itself.
    assert (tmp_path / "instance.json").exists()
    assert lock.acquire()
    assert lock.running() is None and not (tmp_path / "instance.json").exists()


def test_an_address_published_by_a_dead_process_is_not_trusted(tmp_path):
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], **_text())
    dead_pid = int(done.stdout)
    (tmp_path / "instance.json").write_text(info(dead_pid).to_json())
    assert InstanceLock(tmp_path).running() is None
    (tmp_path / "instance.json").write_text("{not json")
    assert InstanceLock(tmp_path).running() is None


def test_the_address_and_its_token_are_readable_by_the_user_only(tmp_path):
    lock = InstanceLock(tmp_path)
    assert lock.acquire()
    lock.publish(info())
    assert stat.S_IMODE((tmp_path / "instance.json").stat().st_mode) == 0o600


class FakeTime:
    """A clock that only moves when the code under test sleeps; runs `on_nap` each time."""

    def __init__(self, on_nap=lambda naps: None) -> None:
        self.now = 0.0
        self.naps = 0
        self.on_nap = on_nap

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.naps += 1
        self.on_nap(self.naps)


def test_a_free_data_dir_is_claimed_at_once(tmp_path):
    lock, time_ = InstanceLock(tmp_path), FakeTime()
    assert claim_or_find(lock, clock=time_.clock, sleep=time_.sleep) is None
    assert lock.held and time_.naps == 0


def test_a_second_launch_waits_while_the_first_is_starting(tmp_path):
    first, second = InstanceLock(tmp_path), InstanceLock(tmp_path)
    assert first.acquire()
    # The first app's server is up after the third nap.
    time_ = FakeTime(lambda naps: naps == 3 and first.publish(info()))
    found = claim_or_find(second, timeout=10.0, clock=time_.clock, sleep=time_.sleep)
    assert found == info() and time_.naps == 3 and not second.held


def test_a_launch_during_the_first_ones_exit_becomes_the_app(tmp_path):
    first, second = InstanceLock(tmp_path), InstanceLock(tmp_path)
    assert first.acquire()  # quitting: its address is withdrawn, the lock not yet released
    time_ = FakeTime(lambda naps: naps == 2 and first.release())
    assert claim_or_find(second, timeout=10.0, clock=time_.clock, sleep=time_.sleep) is None
    assert second.held and time_.naps == 2


def test_a_second_launch_gives_up_on_a_first_that_never_says_where_it_is(tmp_path):
    first, second = InstanceLock(tmp_path), InstanceLock(tmp_path)
    assert first.acquire()
    time_ = FakeTime()
    with pytest.raises(HandOverError, match="does not say where it runs"):
        claim_or_find(second, timeout=2.0, clock=time_.clock, sleep=time_.sleep)
    assert time_.now >= 2.0 and not second.held


def test_show_request_reaches_the_bus_and_headless_refuses_it(runtime, data_dir):
    from backend.core.settings import Settings
    from backend.launcher.runtime import Runtime

    refused = requests.post(
        runtime.url + "api/app/show", json={}, headers=_auth(runtime.token), timeout=5
    )
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "no_window"
    runtime.stop()  # one app per data dir: the windowed one takes its place

    settings = Settings(mode="desktop", ollama_url="http://127.0.0.1:9", data_dir=data_dir)
    windowed = Runtime(settings).start()
    try:
        seen: queue.Queue = queue.Queue()
        windowed.services.bus.subscribe(seen.put, topics=(APP_SHOW,))
        target = InstanceInfo(os.getpid(), windowed.url, windowed.token, "desktop")
        assert ask_to_show(target, new_chat=True) == {"mode": "desktop", "new_chat": True}
        assert seen.get(timeout=5).payload == {"new_chat": True}
        bad = requests.post(
            windowed.url + "api/app/show",
            json={"new_chat": "yes"},
            headers=_auth(windowed.token),
            timeout=5,
        )
        assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_field"
        with pytest.raises(HandOverError, match="token"):
            ask_to_show(InstanceInfo(os.getpid(), windowed.url, "wrong", "desktop"))
    finally:
        windowed.stop()


def test_window_controller_comes_forward_on_a_show_event():
    from backend.desktop.app import DesktopController

    window = RecordingWindow()
    controller = DesktopController(runtime=None, window=window)
    bus = EventBus()
    bus.subscribe(controller.on_show_request, topics=(APP_SHOW,))
    bus.publish(APP_SHOW, {"new_chat": False})
    bus.publish(APP_SHOW, {"new_chat": True})
    assert window.scripted.wait(5)
    bus.close()
    assert window.calls[:2] == ["show", "restore"]
    assert window.calls[2:4] == ["show", "restore"]
    assert "newChat" in window.calls[4]


def test_a_second_headless_app_on_the_same_data_dir_is_refused(headless_app, data_dir):
    first = headless_app()
    again = launch("--headless", data_dir=data_dir)
    assert again.returncode == 1 and again.stdout == ""
    assert again.stderr.count("\n") == 1
    assert f"pid {first.ready['pid']}" in again.stderr and "already running" in again.stderr
    assert first.token not in again.stderr
    # And a windowed launch cannot show a window the headless app does not have.
    windowed = launch(data_dir=data_dir)
    assert windowed.returncode == 1 and "without a window" in windowed.stderr


def test_a_second_launch_brings_the_web_ui_forward_and_exits_0(fake_ollama, data_dir, tmp_path):
    opened = tmp_path / "opened.txt"
    recorder = tmp_path / "browser.py"  # a "browser" that notes the pages it is asked to open
    recorder.write_text(
        f"import sys\nwith open({str(opened)!r}, 'a') as f:\n    f.write(sys.argv[1] + '\\n')\n"
    )
    env = {"BROWSER": f"{sys.executable} {recorder} %s"}
    first = Launched("--web", "--ollama-url", fake_ollama.url, "--data-dir", str(data_dir), env=env)
    try:
        page = first.ready["url"] + "?code="  # a fresh single-use code each time
        assert lines_when(opened, 1)[0].startswith(page)
        again = launch(data_dir=data_dir, env=env)
        assert again.returncode == 0, again.stderr
        assert again.stdout == "" and "already running" in again.stderr
        pages = lines_when(opened, 2)
        assert all(line.startswith(page) for line in pages) and pages[0] != pages[1]
    finally:
        assert first.stop() == 0


class Launched:
    """`cloudtolocalllm` with any flags in a subprocess, its ready line read."""

    def __init__(self, *args: str, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "backend", *args],
            cwd=REPO,
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"exited {self.proc.wait()}: {self.proc.stderr.read()[-2000:]}")
        self.ready = json.loads(line)

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(15)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()


class RecordingWindow:
    """Stands in for pywebview's Window: records what the controller asks of it."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.scripted = threading.Event()

    def show(self) -> None:
        self.calls.append("show")

    def restore(self) -> None:
        self.calls.append("restore")

    def run_js(self, script: str) -> None:
        self.calls.append(script)
        self.scripted.set()


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _text() -> dict:
    return {"capture_output": True, "text": True, "timeout": 30}


@pytest.mark.desktop
@pytest.mark.skipif(not have_desktop_tools(), reason="needs Xvfb and ImageMagick")
def test_a_second_launch_raises_the_running_window_above_others(fake_ollama, data_dir):
    from Xlib import X
    from Xlib import display as xdisplay

    screen = Xvfb()
    app = DesktopApp(screen.display, "--ollama-url", fake_ollama.url, "--data-dir", str(data_dir))
    try:
        app.wait_for(lambda h: h["ui_connections"] >= 1)
        conn = xdisplay.Display(screen.display)
        root = conn.screen().root
        cover = root.create_window(0, 0, 1280, 800, 0, conn.screen().root_depth)
        cover.set_wm_name("another app")
        cover.map()
        conn.sync()
        assert eventually(lambda: _top_window(root, X) == "another app")

        again = launch("--new-chat", data_dir=data_dir, env={"DISPLAY": screen.display})
        assert again.returncode == 0, again.stderr
        assert again.stdout == ""  # no second backend, so no second ready line
        assert eventually(lambda: _top_window(root, X) == "CloudToLocalLLM")
        conn.close()
    finally:
        assert app.quit() == 0
        screen.stop()


def _top_window(root, X) -> str | None:
    """The name of the topmost mapped window (children are listed bottom to top)."""
    for window in reversed(root.query_tree().children):
        if window.get_attributes().map_state == X.IsViewable:
            return window.get_wm_name()
    return None
