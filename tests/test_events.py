"""The event bus: fan-out, order, isolation of slow and broken subscribers, overflow."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

import pytest

from backend.core.events import Event, EventBus

WAIT = 5.0  # generous upper bound; every wait below ends as soon as its event is set


@pytest.fixture
def bus() -> Iterator[EventBus]:
    bus = EventBus()
    yield bus
    bus.close()


class Collector:
    """Records events; `done` is set once `expected` events arrived."""

    def __init__(self, expected: int) -> None:
        self.events: list[Event] = []
        self.expected = expected
        self.done = threading.Event()

    def __call__(self, event: Event) -> None:
        self.events.append(event)
        if len(self.events) >= self.expected:
            self.done.set()

    def values(self) -> list[object]:
        return [e.payload["n"] for e in self.events]


def test_every_subscriber_receives_every_event_in_publish_order(bus: EventBus) -> None:
    collectors = [Collector(200) for _ in range(12)]
    for i, collector in enumerate(collectors):
        bus.subscribe(collector, name=f"c{i}")
    for n in range(200):
        bus.publish("status", {"n": n})
    for collector in collectors:
        assert collector.done.wait(WAIT)
        assert collector.values() == list(range(200))
        assert {e.topic for e in collector.events} == {"status"}


def test_order_holds_per_subscriber_with_concurrent_publishers(bus: EventBus) -> None:
    a, b = Collector(400), Collector(400)
    bus.subscribe(a)
    bus.subscribe(b)

    def publish(tag: str) -> None:
        for n in range(200):
            bus.publish("t", {"n": (tag, n)})

    threads = [threading.Thread(target=publish, args=(tag,)) for tag in "xy"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert a.done.wait(WAIT) and b.done.wait(WAIT)
    # Both subscribers see the same interleaving, and each publisher's own order.
    assert a.values() == b.values()
    for tag in "xy":
        assert [n for t, n in a.values() if t == tag] == list(range(200))


def test_raising_subscriber_is_logged_and_keeps_receiving(
    bus: EventBus, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[int] = []
    third = threading.Event()

    def flaky(event: Event) -> None:
        seen.append(event.payload["n"])
        if len(seen) == 3:
            third.set()
        if event.payload["n"] == 0:
            raise ValueError("boom")

    healthy = Collector(3)
    bus.subscribe(flaky, name="flaky")
    bus.subscribe(healthy)
    with caplog.at_level(logging.ERROR, logger="cloudtolocalllm.events"):
        for n in range(3):
            bus.publish("t", {"n": n})
        assert third.wait(WAIT) and healthy.done.wait(WAIT)
    assert seen == [0, 1, 2]
    assert healthy.values() == [0, 1, 2]
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert "flaky" in errors[0].getMessage() and "boom" in errors[0].getMessage()
    assert "\n" not in errors[0].getMessage()


def test_blocked_subscriber_blocks_neither_publisher_nor_others(bus: EventBus) -> None:
    release = threading.Event()
    entered = threading.Event()
    stuck_seen: list[int] = []

    def stuck(event: Event) -> None:
        stuck_seen.append(event.payload["n"])
        entered.set()
        release.wait(WAIT)

    fast = Collector(50)
    bus.subscribe(stuck, name="stuck")
    bus.subscribe(fast)
    bus.publish("t", {"n": 0})
    assert entered.wait(WAIT)  # the stuck subscriber is now inside its callback
    for n in range(1, 50):
        bus.publish("t", {"n": n})  # returns although a subscriber is blocked
    assert fast.done.wait(WAIT)
    assert fast.values() == list(range(50))
    assert stuck_seen == [0]
    release.set()


def test_a_stuck_subscriber_catches_up_after_release(bus: EventBus) -> None:
    release = threading.Event()
    late = Collector(20)

    def stuck_then_collect(event: Event) -> None:
        release.wait(WAIT)
        late(event)

    bus.subscribe(stuck_then_collect)
    for n in range(20):
        bus.publish("t", {"n": n})
    assert not late.done.is_set()
    release.set()
    assert late.done.wait(WAIT)
    assert late.values() == list(range(20))


def test_unsubscribe_stops_delivery(bus: EventBus) -> None:
    gone = Collector(1)
    stays = Collector(2)
    unsubscribe = bus.subscribe(gone)
    bus.subscribe(stays)
    bus.publish("t", {"n": 0})
    assert gone.done.wait(WAIT)
    unsubscribe()
    unsubscribe()  # a second call is harmless
    bus.publish("t", {"n": 1})
    assert stays.done.wait(WAIT)
    assert gone.values() == [0]
    assert bus.subscriber_count() == 1


def test_unsubscribe_from_inside_the_callback(bus: EventBus) -> None:
    seen: list[int] = []
    handles: list = []
    first = threading.Event()

    def once(event: Event) -> None:
        seen.append(event.payload["n"])
        handles[0]()
        first.set()

    handles.append(bus.subscribe(once))
    witness = Collector(5)
    bus.subscribe(witness)
    for n in range(5):
        bus.publish("t", {"n": n})
    assert first.wait(WAIT) and witness.done.wait(WAIT)
    assert seen == [0]
    assert bus.subscriber_count() == 1


def test_topic_filter(bus: EventBus) -> None:
    statuses = Collector(2)
    everything = Collector(4)
    bus.subscribe(statuses, topics=["status"])
    bus.subscribe(everything)
    bus.publish("status", {"n": 1})
    bus.publish("conversation.created", {"n": 2})
    bus.publish("conversation.deleted", {"n": 3})
    bus.publish("status", {"n": 4})
    assert everything.done.wait(WAIT) and statuses.done.wait(WAIT)
    assert statuses.values() == [1, 4]
    assert everything.values() == [1, 2, 3, 4]


def test_overflow_drops_the_oldest_and_logs_once(caplog: pytest.LogCaptureFixture) -> None:
    bus = EventBus(max_pending=5)
    release = threading.Event()
    entered = threading.Event()
    got: list[int] = []
    last = threading.Event()

    def slow(event: Event) -> None:
        entered.set()
        release.wait(WAIT)
        got.append(event.payload["n"])
        if event.payload["n"] == 19:
            last.set()

    bus.subscribe(slow, name="slow")
    with caplog.at_level(logging.WARNING, logger="cloudtolocalllm.events"):
        bus.publish("t", {"n": 0})
        assert entered.wait(WAIT)  # 0 is being delivered; the rest queue up
        for n in range(1, 20):
            bus.publish("t", {"n": n})
        release.set()
        assert last.wait(WAIT)
    bus.close()
    assert got == [0, 15, 16, 17, 18, 19]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "slow" in warnings[0].getMessage()


def test_payload_is_copied_at_publish(bus: EventBus) -> None:
    got = Collector(1)
    release = threading.Event()

    def late(event: Event) -> None:
        release.wait(WAIT)
        got(event)

    bus.subscribe(late)
    payload = {"n": 1}
    bus.publish("t", payload)
    payload["n"] = 2  # the publisher reuses its dict before delivery
    release.set()
    assert got.done.wait(WAIT)
    assert got.values() == [1]


def test_close_ends_delivery_threads_and_refuses_new_subscribers() -> None:
    bus = EventBus()
    collector = Collector(1)
    bus.subscribe(collector, name="closing")
    bus.publish("t", {"n": 0})
    assert collector.done.wait(WAIT)
    bus.close()
    assert not [t for t in threading.enumerate() if t.name == "events-closing"]
    bus.publish("t", {"n": 1})  # a publish after close is a no-op, not an error
    assert collector.values() == [0]
    with pytest.raises(RuntimeError):
        bus.subscribe(collector)
