"""The connection monitor against a real FakeOllama that is stopped and started for real."""
# Over 300 lines on purpose: one test per state change and schedule rule, one shared fake.

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from backend.core.events import Event, EventBus
from backend.core.monitor import ConnectionMonitor, MonitorConfig, backoff_delay
from backend.core.providers.ollama.client import OllamaClient
from tests.fake_ollama import FakeOllama

WAIT = 5.0  # upper bound only: every wait ends as soon as its event arrives
# Threaded tests: heartbeats and backoff steps of tens of milliseconds.
FAST = MonitorConfig(
    heartbeat_s=0.05, heartbeat_timeout_s=1.0, backoff_base_s=0.02, backoff_cap_s=0.1,
    backoff_floor_s=0.01,
)  # fmt: skip
# A monitor whose loop would sleep for the full 30 s unless something wakes it.
SLOW = MonitorConfig(heartbeat_s=30.0, backoff_base_s=30.0, backoff_floor_s=30.0)
SENTINEL = "test.sentinel"


class StepClock:
    """A fake monotonic clock that advances `step` seconds on every reading."""

    def __init__(self, step: float = 0.004) -> None:
        self.now = 1000.0
        self.step = step

    def __call__(self) -> float:
        value = self.now
        self.now += self.step
        return value


class Watcher:
    """Collects `status` events from the bus and waits for one that matches."""

    def __init__(self, bus: EventBus) -> None:
        self.statuses: list[dict[str, Any]] = []
        self._cond = threading.Condition()
        self._sentinels = 0
        self._bus = bus
        bus.subscribe(self._on_event, topics=["status", SENTINEL], name="watcher")

    def _on_event(self, event: Event) -> None:
        with self._cond:
            if event.topic == SENTINEL:
                self._sentinels += 1
            else:
                self.statuses.append(event.payload)
            self._cond.notify_all()

    def wait_for(self, predicate: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        with self._cond:
            found = self._cond.wait_for(
                lambda: next((s for s in self.statuses if predicate(s)), None), WAIT
            )
        assert found is not None, f"no matching status in {self.statuses}"
        return found

    def drain(self) -> list[dict[str, Any]]:
        """Every status published so far (the bus delivers in order, so a sentinel suffices)."""
        with self._cond:
            target = self._sentinels + 1
        self._bus.publish(SENTINEL, {})
        with self._cond:
            assert self._cond.wait_for(lambda: self._sentinels >= target, WAIT)
            return list(self.statuses)


@pytest.fixture
def fake() -> Iterator[FakeOllama]:
    server = FakeOllama().start()
    yield server
    server.stop()


@pytest.fixture
def bus() -> Iterator[EventBus]:
    bus = EventBus()
    yield bus
    bus.close()


@pytest.fixture
def make_monitor(bus: EventBus) -> Iterator[Callable[..., ConnectionMonitor]]:
    monitors: list[ConnectionMonitor] = []

    def make(url: str, config: MonitorConfig = FAST, **kwargs: Any) -> ConnectionMonitor:
        monitor = ConnectionMonitor(OllamaClient(url), bus, config, **kwargs)
        monitors.append(monitor)
        return monitor

    yield make
    for monitor in monitors:
        monitor.stop()


@pytest.fixture
def broken_ollama() -> Iterator[str]:
    """A server that answers every request with HTTP 500, as a crashed Ollama can."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps({"error": "llama runner process has terminated"}).encode()
            self.send_response(500)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def paths(fake: FakeOllama, path: str) -> int:
    return sum(1 for r in fake.requests if r["path"] == path)


# -- the schedule, as a pure function ------------------------------------------------


def test_backoff_is_full_jitter_exponential_capped_and_floored() -> None:
    cfg = MonitorConfig(backoff_base_s=1.0, backoff_factor=2.0, backoff_cap_s=30.0)
    assert backoff_delay(1, cfg, 0.0) == cfg.backoff_floor_s == 0.25
    assert [backoff_delay(n, cfg, 1.0) for n in range(1, 7)] == [1, 2, 4, 8, 16, 30]
    assert backoff_delay(3, cfg, 0.5) == 2.0
    assert backoff_delay(5000, cfg, 1.0) == 30.0  # hours of retries: no float overflow
    tripling = MonitorConfig(backoff_base_s=0.5, backoff_factor=3.0, backoff_cap_s=10.0)
    assert [backoff_delay(n, tripling, 1.0) for n in range(1, 5)] == [0.5, 1.5, 4.5, 10.0]


def test_config_keeps_the_contracts_30_second_retry_bound() -> None:
    assert MonitorConfig.local() == MonitorConfig()
    remote = MonitorConfig.remote()
    assert remote.heartbeat_timeout_s > MonitorConfig.local().heartbeat_timeout_s
    assert remote.backoff_cap_s <= 30.0
    with pytest.raises(ValueError):
        MonitorConfig(backoff_cap_s=60.0)
    with pytest.raises(ValueError):
        MonitorConfig(heartbeat_s=0.0)


# -- single checks, driven synchronously ----------------------------------------------


def test_first_check_connects_with_version_latency_and_models(fake, make_monitor) -> None:
    monitor = make_monitor(fake.url, clock=StepClock(step=0.004))
    assert monitor.status()["state"] == "connecting"
    assert monitor.status()["endpoint"] == fake.url
    status = monitor.check_now()
    assert status == {
        "state": "connected",
        "endpoint": fake.url,
        "latency_ms": 4.0,
        "version": "0.13.0",
        "error": None,
        "reconnect_attempt": 0,
        "next_retry_s": None,
        "model_count": len(fake.models),
    }
    status["state"] = "changed by the caller"
    assert monitor.status()["state"] == "connected"  # status() hands out copies


def test_lost_connection_reconnects_with_growing_attempts(fake, make_monitor, caplog) -> None:
    caplog.set_level(logging.INFO, logger="cloudtolocalllm.monitor")
    cfg = MonitorConfig(backoff_base_s=1.0, backoff_factor=2.0, backoff_cap_s=30.0)
    monitor = make_monitor(fake.url, cfg, random=lambda: 0.5)
    assert monitor.check_now()["state"] == "connected"
    fake.stop()
    first = monitor.check_now()
    assert first["state"] == "reconnecting"
    assert first["error"]
    assert first["reconnect_attempt"] == 1
    assert first["next_retry_s"] == 0.5
    assert first["version"] is None and first["latency_ms"] is None
    second = monitor.check_now()
    assert (second["reconnect_attempt"], second["next_retry_s"]) == (2, 1.0)
    assert monitor.check_now()["reconnect_attempt"] == 3
    fake.start()  # the same port again
    back = monitor.check_now()
    assert back["state"] == "connected"
    assert (back["reconnect_attempt"], back["next_retry_s"], back["error"]) == (0, None, None)
    # One log line per state change, none for a retry that changes only the attempt.
    changes = [r.getMessage() for r in caplog.records if r.name == "cloudtolocalllm.monitor"]
    assert len(changes) == 3
    assert "connected -> reconnecting" in changes[1] and first["error"] in changes[1]


def test_never_reached_is_disconnected(fake, make_monitor) -> None:
    fake.stop()  # the port is known but refuses connections
    status = make_monitor(fake.url).check_now()
    assert status["state"] == "disconnected"
    assert status["reconnect_attempt"] == 1 and status["error"]


def test_http_500_on_version_is_error_state(broken_ollama, make_monitor) -> None:
    status = make_monitor(broken_ollama, random=lambda: 1.0).check_now()
    assert status["state"] == "error"
    assert "500" in status["error"]
    assert status["reconnect_attempt"] == 1
    assert status["next_retry_s"] == FAST.backoff_base_s  # broken is retried like down


def test_model_count_is_refreshed_every_nth_heartbeat_or_on_request(fake, make_monitor) -> None:
    monitor = make_monitor(fake.url, MonitorConfig(models_every=3))
    assert monitor.check_now()["model_count"] == 4
    fake.models.pop()
    assert monitor.check_now()["model_count"] == 4  # heartbeat 1: /api/version only
    assert monitor.check_now()["model_count"] == 4  # heartbeat 2
    assert monitor.check_now()["model_count"] == 3  # heartbeat 3 lists the models
    assert paths(fake, "/api/version") == 4 and paths(fake, "/api/tags") == 2
    fake.models.pop()
    monitor.request_check()  # a user's reconnect also refreshes the list
    assert monitor.check_now()["model_count"] == 2


def test_status_read_later_says_the_time_left_until_the_retry(fake, bus, make_monitor) -> None:
    watcher = Watcher(bus)
    clock = StepClock(step=0.0)  # time moves only when the test moves it
    cfg = MonitorConfig(backoff_base_s=4.0, backoff_factor=2.0, backoff_cap_s=30.0)
    monitor = make_monitor(fake.url, cfg, clock=clock, random=lambda: 0.5)
    fake.stop()
    failed = monitor.check_now()
    assert (failed["reconnect_attempt"], failed["next_retry_s"]) == (1, 2.0)
    assert watcher.drain()[-1]["next_retry_s"] == 2.0  # the news: the whole step
    clock.now += 0.75
    # A window that connects now (or GET /api/status) gets what is left: one countdown.
    assert monitor.status()["next_retry_s"] == 1.25
    clock.now += 5.0
    assert monitor.status()["next_retry_s"] == 0.0  # due (the retry is under way)
    fake.start()
    assert monitor.check_now()["next_retry_s"] is None
    assert monitor.status()["next_retry_s"] is None


def test_status_published_on_changes_not_on_identical_heartbeats(fake, bus, make_monitor) -> None:
    watcher = Watcher(bus)
    clock = StepClock(step=0.004)  # every check measures 4 ms
    monitor = make_monitor(fake.url, MonitorConfig(models_every=100), clock=clock)
    for _ in range(5):
        monitor.check_now()
    assert [s["state"] for s in watcher.drain()] == ["connected"]
    clock.step = 0.0045  # +12%: noise, not news
    monitor.check_now()
    assert len(watcher.drain()) == 1
    clock.step = 0.05  # 50 ms: more than half again, and more than 5 ms
    monitor.check_now()
    assert watcher.drain()[-1]["latency_ms"] == 50.0
    clock.step = 0.051
    monitor.check_now()
    assert len(watcher.drain()) == 2
    clock.now += 31.0  # the last publication is over 30 s old: a small change goes out
    monitor.check_now()
    assert [s["latency_ms"] for s in watcher.drain()] == [4.0, 50.0, 51.0]
    fake.stop()
    monitor.check_now()
    monitor.check_now()  # a second failure: the attempt number changed, so it is published
    assert [s["reconnect_attempt"] for s in watcher.drain()[-2:]] == [1, 2]


# -- the loop thread -----------------------------------------------------------------


def test_start_connects_then_heartbeats_notice_the_loss(fake, bus, make_monitor) -> None:
    watcher = Watcher(bus)
    monitor = make_monitor(fake.url)
    monitor.start()
    connected = watcher.wait_for(lambda s: s["state"] == "connected")
    assert watcher.statuses[0]["state"] == "connecting"
    assert connected["version"] == "0.13.0" and connected["model_count"] == 4
    assert isinstance(connected["latency_ms"], float) and connected["latency_ms"] >= 0
    fake.stop()  # no request_check: the next heartbeat finds out
    lost = watcher.wait_for(lambda s: s["state"] == "reconnecting")
    assert lost["reconnect_attempt"] == 1 and lost["next_retry_s"] is not None
    watcher.wait_for(lambda s: s["reconnect_attempt"] >= 3)  # the backoff keeps retrying
    fake.start()
    back = watcher.wait_for(lambda s: s["state"] == "connected" and s is not connected)
    assert back["reconnect_attempt"] == 0


def test_request_check_interrupts_a_long_backoff(fake, bus, make_monitor) -> None:
    watcher = Watcher(bus)
    fake.stop()
    monitor = make_monitor(fake.url, SLOW)
    monitor.start()
    down = watcher.wait_for(lambda s: s["state"] == "disconnected")
    assert down["next_retry_s"] == 30.0  # the loop now sleeps 30 s ...
    fake.start()
    monitor.request_check()  # ... unless woken, as POST /api/connection/reconnect does
    watcher.wait_for(lambda s: s["state"] == "connected")


def test_set_client_switches_endpoint(fake, bus, make_monitor) -> None:
    watcher = Watcher(bus)
    monitor = make_monitor(fake.url, SLOW)
    monitor.start()
    watcher.wait_for(lambda s: s["state"] == "connected")
    with FakeOllama() as other:
        other.version = "0.14.1"
        monitor.set_client(OllamaClient(other.url))
        switching = watcher.wait_for(lambda s: s["endpoint"] == other.url)
        assert switching["state"] == "connecting" and switching["version"] is None
        # SLOW heartbeats every 30 s: only the switch itself can have checked this soon.
        now = watcher.wait_for(lambda s: s["endpoint"] == other.url and s["version"])
        assert (now["state"], now["version"]) == ("connected", "0.14.1")
        assert monitor.status()["endpoint"] == other.url
        assert paths(other, "/api/version") >= 1


def test_stop_ends_the_thread_without_waiting_out_the_heartbeat(fake, bus, make_monitor) -> None:
    watcher = Watcher(bus)
    before = set(threading.enumerate())
    monitor = make_monitor(fake.url, SLOW)
    monitor.start()
    watcher.wait_for(lambda s: s["state"] == "connected")
    (thread,) = [t for t in threading.enumerate() if t not in before and "monitor" in t.name]
    monitor.stop()  # joins for at most ~3 s; the heartbeat wait is 30 s
    assert not thread.is_alive()
    monitor.start()  # a stopped monitor can start again
    monitor.request_check()
    assert watcher.wait_for(lambda s: s["state"] == "connected")


def test_a_client_bug_is_an_error_state_not_a_dead_loop(bus, make_monitor) -> None:
    class BuggyClient:
        base_url = "http://127.0.0.1:9"

        def version(self, timeout: float | None = None) -> str:
            raise RuntimeError("unexpected payload shape")

    watcher = Watcher(bus)
    monitor = ConnectionMonitor(BuggyClient(), bus, FAST)  # type: ignore[arg-type]
    monitor.start()
    try:
        status = watcher.wait_for(lambda s: s["reconnect_attempt"] >= 2)
    finally:
        monitor.stop()
    assert status["state"] == "error" and "unexpected payload shape" in status["error"]
