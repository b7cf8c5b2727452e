"""Watches a model server's connection (Ollama's, or an added endpoint's): heartbeats
while up, backoff with full jitter while down.

States (the contract's STATUS.state):
- `connecting`: just started, or the endpoint just changed; no answer yet.
- `connected`: `GET /api/version` answered.
- `disconnected`: unreachable and never reached since start or the last endpoint change
  (Ollama not running at all, or a wrong URL): a first impression, not a loss.
- `reconnecting`: unreachable after having been reached: the connection was lost.
- `error`: Ollama answered but broken (an HTTP error, a malformed answer).
Every state but `connected` retries after a backoff step; `request_check()` retries now.

A `status` event is published on every change of a STATUS field or of `model_count`. A
change of `latency_ms` alone is published only when it moved by more than
`latency_change_ratio` of the last published value (and by at least
`latency_change_min_ms`), or when the last publication is `latency_publish_s` old, so
an idle app does not push a frame every heartbeat.

Over 300 lines on purpose: the state machine, its schedule and the lock they share
are one unit; split, each half would reach into the other's lock.
"""

from __future__ import annotations

import logging
import random as _random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from backend.core.errors import AppError
from backend.core.providers.errors import ProviderHTTPError, ProviderUnavailable
from backend.core.providers.ollama.types import OllamaError
from backend.core.topics import STATUS

if TYPE_CHECKING:
    from backend.core.providers.base import Provider

log = logging.getLogger("cloudtolocalllm.monitor")

# The contract: while Ollama is unreachable the app retries at least every 30 s.
MAX_RETRY_INTERVAL_S = 30.0


@dataclass(frozen=True)
class MonitorConfig:
    """Every timing of the monitor, in seconds unless named otherwise."""

    heartbeat_s: float = 5.0
    heartbeat_timeout_s: float = 2.0
    backoff_base_s: float = 1.0
    backoff_factor: float = 2.0
    backoff_cap_s: float = 30.0
    # Full jitter can draw ~0: the floor keeps a dead endpoint from being hammered.
    backoff_floor_s: float = 0.25
    # /api/tags walks the model store on disk, so the count is refreshed on (re)connect,
    # on request_check(), and every Nth heartbeat (12 x 5 s: a pull shows within a minute).
    models_every: int = 12
    latency_publish_s: float = 30.0
    latency_change_ratio: float = 0.5
    latency_change_min_ms: float = 5.0

    def __post_init__(self) -> None:
        positive = ("heartbeat_s", "heartbeat_timeout_s", "backoff_base_s", "backoff_floor_s")
        for name in positive:
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")
        if self.backoff_factor < 1:
            raise ValueError("backoff_factor must be at least 1")
        if not self.backoff_floor_s <= self.backoff_cap_s <= MAX_RETRY_INTERVAL_S:
            raise ValueError(f"need backoff_floor_s <= backoff_cap_s <= {MAX_RETRY_INTERVAL_S}")
        if self.models_every < 1:
            raise ValueError("models_every must be at least 1")

    @classmethod
    def local(cls) -> MonitorConfig:
        """For an Ollama on this machine."""
        return cls()

    @classmethod
    def remote(cls) -> MonitorConfig:
        """For an Ollama on another host: slower answers are normal, heartbeats rarer."""
        return cls(heartbeat_s=10.0, heartbeat_timeout_s=5.0, models_every=6)


def backoff_delay(attempt: int, config: MonitorConfig, rand: float) -> float:
    """Seconds before retry number `attempt` (1-based): full jitter, capped, floored.

    `rand` is a draw from [0, 1]; delay = rand * min(cap, base * factor ** (attempt - 1)).
    """
    try:
        ceiling = config.backoff_base_s * config.backoff_factor ** max(attempt - 1, 0)
    except OverflowError:  # after hours of retries the power leaves float range
        ceiling = config.backoff_cap_s
    ceiling = min(config.backoff_cap_s, ceiling)
    return max(config.backoff_floor_s, rand * ceiling)


def _fresh_status(endpoint: str) -> dict[str, Any]:
    return {
        "state": "connecting",
        "endpoint": endpoint,
        "latency_ms": None,
        "version": None,
        "error": None,
        "reconnect_attempt": 0,
        "next_retry_s": None,
        "model_count": None,
    }


class Publisher(Protocol):
    """Where the monitor sends its `status` events (the app's EventBus, or a wrapper)."""

    def publish(self, topic: str, payload: dict[str, Any]) -> None: ...


class ConnectionMonitor:
    """One per endpoint: owns the STATUS of its connection and publishes its changes."""

    def __init__(
        self,
        client: Provider,
        bus: Publisher,
        config: MonitorConfig | None = None,
        *,
        label: str = "Ollama",
        clock: Callable[[], float] = time.monotonic,
        random: Callable[[], float] = _random.random,
    ) -> None:
        self._client = client
        self._bus = bus
        self._label = label  # how log lines name the server
        self._config = config or MonitorConfig.local()
        self._clock = clock
        self._random = random
        # One lock (inside the condition) guards the status, the client and the schedule.
        self._cond = threading.Condition()
        self._check_lock = threading.Lock()  # one check at a time: thread or check_now()
        self._status = _fresh_status(client.base_url)
        self._published: dict[str, Any] | None = None
        self._published_at = 0.0
        self._ever_connected = False
        self._beats_since_models = 0
        self._force_models = False
        self._thread: threading.Thread | None = None
        self._generation = 0  # bumped by stop(): an old loop thread then exits
        self._check_requested = False
        self._checks_done = 0
        self._delay = 0.0
        self._retry_due = 0.0  # the clock's reading at the next retry, while retrying

    def status(self) -> dict[str, Any]:
        """A copy of STATUS plus `model_count`; safe from any thread.

        `next_retry_s` is the time left until the retry, not the step it was scheduled
        with: a window that asks later (or connects later) counts down from where the
        others are instead of starting the countdown over.
        """
        with self._cond:
            status = dict(self._status)
            if status["next_retry_s"] is not None:
                status["next_retry_s"] = round(max(0.0, self._retry_due - self._clock()), 3)
            return status

    def start(self) -> None:
        """Start the daemon loop; it checks at once. Does nothing if already running."""
        with self._cond:
            if self._thread is not None and self._thread.is_alive():
                return
            self._generation += 1
            self._check_requested = True
            if self._published is None:
                self._publish_locked()  # subscribers learn the initial `connecting`
            self._thread = threading.Thread(
                target=self._run, args=(self._generation,), name="ollama-monitor", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        """End the loop; waits at most about one check's timeout for the thread."""
        with self._cond:
            self._generation += 1
            self._cond.notify_all()
            thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(self._config.heartbeat_timeout_s + 1.0)

    def request_check(self) -> None:
        """Have the loop check now (and refresh the model count); returns at once."""
        with self._cond:
            self._check_requested = True
            self._force_models = True
            self._cond.notify_all()

    def check_now(self) -> dict[str, Any]:
        """Run one check in the calling thread and return the resulting status."""
        with self._check_lock:
            return self._check_once()

    def set_client(self, client: Provider) -> None:
        """Switch to another Ollama: state `connecting`, then a check at once."""
        with self._cond:
            old = self._status
            self._client = client
            self._ever_connected = False
            self._beats_since_models = 0
            self._status = _fresh_status(client.base_url)
            log.info("%s endpoint %s -> %s", self._label, old["endpoint"], client.base_url)
            self._publish_if_changed_locked()
            self._check_requested = True
            self._cond.notify_all()

    # -- the loop ------------------------------------------------------------------

    def _run(self, generation: int) -> None:
        while self._wait_for_turn(generation):
            self.check_now()

    def _wait_for_turn(self, generation: int) -> bool:
        """Block until a check is due; False once this loop has been stopped."""
        with self._cond:
            while generation == self._generation:
                if self._check_requested:
                    self._check_requested = False
                    return True
                seen = self._checks_done
                notified = self._cond.wait(self._delay)
                # A check_now() meanwhile has already checked and rescheduled: wait again.
                if not notified and seen == self._checks_done:
                    return generation == self._generation
            return False

    # -- one check -----------------------------------------------------------------

    def _check_once(self) -> dict[str, Any]:
        with self._cond:
            client = self._client
            want_models = (
                self._force_models
                or self._status["state"] != "connected"
                or self._beats_since_models + 1 >= self._config.models_every
            )
            self._force_models = False
        timeout = self._config.heartbeat_timeout_s
        started = self._clock()
        try:
            version = client.version(timeout=timeout)
        except ProviderUnavailable as exc:
            return self._failed(client, reachable=False, message=str(exc))
        except ProviderHTTPError as exc:
            return self._failed(client, reachable=True, message=_describe_http_error(exc))
        except AppError as exc:  # e.g. a malformed answer: something is there, but broken
            return self._failed(client, reachable=True, message=str(exc))
        # A client bug must show as a state the user sees and leave the loop alive:
        # a dead monitor thread would never reconnect.
        except Exception as exc:
            log.exception("checking %s failed unexpectedly", client.base_url)
            return self._failed(client, reachable=True, message=f"{type(exc).__name__}: {exc}")
        latency_ms = round((self._clock() - started) * 1000.0, 2)
        count = self._model_count(client) if want_models else None
        return self._succeeded(client, version, latency_ms, count, want_models)

    def _model_count(self, client: Provider) -> int | None:
        try:
            return len(client.list_models(timeout=self._config.heartbeat_timeout_s))
        except AppError as exc:
            # /api/version answered, so the connection is fine; the next heartbeat
            # tells whether Ollama went away. Keep the last known count until then.
            log.debug("listing models at %s failed: %s", client.base_url, exc)
            return None

    def _succeeded(
        self,
        client: Provider,
        version: str,
        latency_ms: float,
        count: int | None,
        refreshed: bool,
    ) -> dict[str, Any]:
        with self._cond:
            if client is not self._client:  # the endpoint changed during the check
                return dict(self._status)
            if refreshed and count is not None:
                self._beats_since_models = 0
            else:
                self._beats_since_models += 1
                self._force_models = self._force_models or refreshed  # the listing failed
                count = self._status["model_count"]
            self._ever_connected = True
            self._update_locked(
                state="connected",
                latency_ms=latency_ms,
                version=version,
                error=None,
                reconnect_attempt=0,
                next_retry_s=None,
                model_count=count,
            )
            self._reschedule_locked(self._config.heartbeat_s)
            return dict(self._status)

    def _failed(self, client: Provider, *, reachable: bool, message: str) -> dict[str, Any]:
        with self._cond:
            if client is not self._client:
                return dict(self._status)
            if reachable:
                state = "error"
            else:
                state = "reconnecting" if self._ever_connected else "disconnected"
            attempt = self._status["reconnect_attempt"] + 1
            delay = backoff_delay(attempt, self._config, self._random())
            self._retry_due = self._clock() + delay
            self._update_locked(
                state=state,
                latency_ms=None,
                version=None,
                error=message,
                reconnect_attempt=attempt,
                next_retry_s=round(delay, 3),
                model_count=None,
            )
            self._reschedule_locked(delay)
            return dict(self._status)

    # -- status bookkeeping (callers hold self._cond) -------------------------------

    def _reschedule_locked(self, delay: float) -> None:
        self._delay = delay
        self._checks_done += 1
        self._cond.notify_all()

    def _update_locked(self, **fields: Any) -> None:
        old_state = self._status["state"]
        self._status = {**self._status, **fields}
        new_state = self._status["state"]
        if new_state != old_state:
            detail = self._status["error"] or f"{self._label} {self._status['version']}"
            log.info(
                "%s at %s: %s -> %s (%s)",
                self._label,
                self._status["endpoint"],
                old_state,
                new_state,
                detail,
            )
        self._publish_if_changed_locked()

    def _publish_if_changed_locked(self) -> None:
        now = self._clock()
        if _worth_publishing(self._published, self._status, now - self._published_at, self._config):
            self._publish_locked(now)

    def _publish_locked(self, now: float | None = None) -> None:
        # Published under the lock so events leave in the order the changes happened;
        # EventBus.publish only enqueues, it never waits for a subscriber.
        self._published = dict(self._status)
        self._published_at = self._clock() if now is None else now
        self._bus.publish(STATUS, dict(self._status))


def _worth_publishing(
    published: dict[str, Any] | None,
    current: dict[str, Any],
    age_s: float,
    config: MonitorConfig,
) -> bool:
    """Whether `current` differs enough from the last published status to publish it."""
    if published is None:
        return True
    if any(current[k] != published.get(k) for k in current if k != "latency_ms"):
        return True
    old, new = published.get("latency_ms"), current["latency_ms"]
    if old == new:
        return False
    if old is None or new is None or age_s >= config.latency_publish_s:
        return True
    return abs(new - old) > max(config.latency_change_ratio * old, config.latency_change_min_ms)


def _describe_http_error(exc: ProviderHTTPError) -> str:
    server = "Ollama" if isinstance(exc, OllamaError) else "The server"
    return f"{server} answered HTTP {exc.status}: {exc}"
